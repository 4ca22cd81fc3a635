"""punctual-client: the Python SDK for punctual.

from punctual_client import Punctual
client = Punctual(url="http://127.0.0.1:8000", api_key="my-key")
task = client.task("billOnDemand").message({"invoice": 42}).metadata(customer="c-17").run_once(at)
"""

from punctual_client import events
from punctual_client._async import AsyncPaginator, AsyncPunctual
from punctual_client._builder import TaskBuilder
from punctual_client._core import Page
from punctual_client._sync import Paginator, Punctual
from punctual_client.errors import (
    Conflict,
    ErrorDetail,
    Invalid,
    NotFound,
    PunctualError,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from punctual_client.models import Cancelled, CreatedItem, FiredEvent, ItemError, ItemResult, Run, Task
from punctual_client.signatures import SignatureError, verify

__all__ = [
    "AsyncPaginator",
    "AsyncPunctual",
    "Cancelled",
    "Conflict",
    "CreatedItem",
    "ErrorDetail",
    "FiredEvent",
    "Invalid",
    "ItemError",
    "ItemResult",
    "NotFound",
    "Page",
    "Paginator",
    "Punctual",
    "PunctualError",
    "RateLimited",
    "Run",
    "SignatureError",
    "Task",
    "TaskBuilder",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "events",
    "verify",
]
__version__ = "0.1.0"

"""Python client for FairMind Model Storage.

>>> from fairmind import Client
>>> client = Client("http://127.0.0.1:3000", token="fm_...")
>>> client.download("demo_org", "credit_risk", "production")  # doctest: +SKIP
"""

from .client import ChecksumError, Client, DownloadResult, FairMindError

__all__ = ["ChecksumError", "Client", "DownloadResult", "FairMindError"]
__version__ = "0.1.0"

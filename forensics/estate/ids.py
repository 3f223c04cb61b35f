"""Deterministic identifiers in the shapes each producer writes them.

Every identifier comes from one seeded ``random.Random``; the same seed gives the same ids, so
two runs of the generator are byte-identical.
"""

from __future__ import annotations

import base64
import random
import string
import uuid

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_UPPER_DIGITS = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits
_LOWER_DIGITS = string.ascii_lowercase + string.digits
_HEX = "0123456789abcdef"
_POD_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for name suffixes


def stream(seed: int, name: str) -> random.Random:
    """An independent random stream for one part of the estate (string seeds hash stably)."""
    return random.Random(f"forensics-estate:{seed}:{name}")


class Ids:
    """Identifier factory over one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chars(self, alphabet: str, n: int) -> str:
        """``n`` characters drawn from ``alphabet``."""
        choice = self.rng.choice
        return "".join(choice(alphabet) for _ in range(n))

    def uuid(self) -> str:
        """A version-4 UUID in its canonical text form."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, n: int) -> str:
        return self.chars(_HEX, n)

    def digits(self, n: int) -> str:
        return self.chars(string.digits, n)

    def alnum(self, n: int) -> str:
        return self.chars(_ALNUM, n)

    def lower(self, n: int) -> str:
        return self.chars(_LOWER_DIGITS, n)

    def upper(self, n: int) -> str:
        return self.chars(_UPPER_DIGITS, n)

    def aws_key(self, prefix: str = "ASIA") -> str:
        """An AWS access key id: AKIA (long-lived) or ASIA (temporary) and 16 characters."""
        return prefix + self.chars(_BASE32, 16)

    def aws_unique_id(self, prefix: str) -> str:
        """An IAM unique id such as AROA... (role) or AIDA... (user)."""
        return prefix + self.chars(_BASE32, 17)

    def s3_request_id(self) -> str:
        return self.upper(16)

    def amz_id_2(self) -> str:
        return base64.b64encode(self.rng.randbytes(57)).decode()

    def session_token(self) -> str:
        # Real tokens run to several hundred characters; a shorter blob keeps files small.
        body = base64.b64encode(self.rng.randbytes(90)).decode()
        return "IQoJb3JpZ2luX2VjE" + body

    def saml_assertion_id(self) -> str:
        return "_" + self.hex(32)

    def okta_id(self, prefix: str) -> str:
        """An Okta object id: a 3-character type prefix and 17 characters."""
        return prefix + self.alnum(17)

    def okta_session(self) -> str:
        return "102" + self.alnum(22)

    def okta_transaction(self) -> str:
        return self.alnum(27)

    def gcp_insert_id(self) -> str:
        return self.lower(12)

    def token_id(self) -> str:
        """An Entra uniqueTokenIdentifier / 'uti' claim: 22 base64url characters."""
        return base64.urlsafe_b64encode(self.rng.randbytes(16)).decode().rstrip("=")

    def instance_id(self) -> str:
        return "i-0" + self.hex(16)

    def pod_suffix(self) -> str:
        return self.chars(_POD_CHARS, 9) + "-" + self.chars(_POD_CHARS, 5)

    def file_suffix(self) -> str:
        """The random tail CloudTrail puts in each log file name."""
        return self.alnum(16)

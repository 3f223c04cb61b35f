"""The decoded text of a log file a window at a time, the JSON values read from it, and the
ways past what cannot be read.

``Buffer`` slides over a file's text chunk by chunk, knowing each position's byte offset in
the (gunzipped) file, so that an error can say exactly which bytes it stands for. When a
value cannot be read, the ``skip_*`` functions move past it, to the next record where that
can be found reliably; where it cannot, the reason says from which byte the rest of the file
was not read. The readers of each file shape (``reader``) are built on these.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from forensics.engine.streams import CHUNK_CHARS, MAX_RECORD_CHARS, ByteSource, RawRecord

WS = " \t\r\n"
GZIP_MAGIC = b"\x1f\x8b"
DECODER = json.JSONDecoder()
_LARGE_VALUE = CHUNK_CHARS // 2
_STRUCTURAL = re.compile(r'[{}\[\]",:]')


def chunks(src: ByteSource, first: bytes, offset: int = 0) -> Iterator[tuple[str, int]]:
    """The file's text a chunk at a time, each with the number of bytes it was decoded from.

    A byte that is not valid UTF-8 goes on as the lone surrogate that stands for it
    (``surrogateescape``: one character a byte, so byte offsets stay exact), and reading
    goes on: the record that holds it is quarantined for it (``invalid_utf8``), not the
    rest of the file. Gzip data inside the text ends it: what comes before it is still
    handed out, and ``src.failure`` says where it is (``offset`` bytes precede ``first``).
    """
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    data = first
    fed = offset  # bytes handed to the decoder so far
    final = False
    while True:
        held = decoder.getstate()[0]  # the start of a character cut by the last chunk's end
        piece = decoder.decode(data, final=final)
        size = len(held) + len(data) - len(decoder.getstate()[0])
        gzip_at = piece.find(_ESCAPED_GZIP_MAGIC)
        if gzip_at >= 0:
            good = piece[:gzip_at]
            good_bytes = _byte_length(good)
            if good:
                yield good, good_bytes
            src.failure = src.failure or _gzip_failure(fed - len(held) + good_bytes, src.gzipped)
            return
        fed += len(data)
        yield piece, size
        if final:
            return
        data = src.read_bytes(CHUNK_CHARS)
        final = not data


# Gzip's magic as decoded text: 0x1f is ASCII, 0x8b is not valid UTF-8 on its own.
_ESCAPED_GZIP_MAGIC = GZIP_MAGIC.decode("utf-8", "surrogateescape")
# The characters that stand for bytes that are not valid UTF-8 (see ``chunks``).
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _byte_length(text: str) -> int:
    """How many bytes of the file ``text`` was decoded from."""
    return len(text.encode("utf-8", "surrogateescape"))


def _gzip_failure(at: int, gzipped: bool) -> str:
    """Why the text ends at gzip data at byte ``at`` of the file."""
    if gzipped:
        return gzip_inside(at)
    return f"gzip data at byte {at}, inside the file" + rest_not_read(at)


def invalid_utf8(text: str) -> str:
    """Why a record's text cannot be read as it stands: "" for valid UTF-8, else where its
    first invalid byte is (a byte ``chunks`` passed on as a lone surrogate)."""
    if text.isascii():
        return ""
    bad = _ESCAPED_BYTE.search(text)
    if bad is None:
        return ""
    return f"invalid UTF-8 at byte {_byte_length(text[: bad.start()])} of the record"


def gzip_inside(at: int) -> str:
    return f"gzip inside gzip at byte {at}: the file was compressed twice; decompress it once"


@dataclass(frozen=True, slots=True)
class Failure:
    """Why the value at a buffer's position could not be read."""

    kind: str  # "invalid" JSON, too "large" to hold, or "cut" short by the end of the input
    message: str  # the decoder's message, or what is too large
    offset: int  # where the decoder stopped, in characters from the value's start

    def reason(self, text: str = "") -> str:
        """Why, and where: in a value over several lines (``text``, from its start), the
        line and column within it, as an editor shows them."""
        if self.kind == "large":
            return self.message
        before = text[: self.offset]
        if len(before) == self.offset and "\n" in before:
            line_start = before.rfind("\n") + 1
            line = before.count("\n") + 1
            where = f"line {line}, column {self.offset - line_start + 1} of the record"
            return f"invalid JSON: {self.message} at {where}"
        return f"invalid JSON: {self.message} at column {self.offset + 1}"


class Buffer:
    """A sliding window of decoded text over a chunk iterator."""

    def __init__(self, chunks: Iterator[tuple[str, int]], offset: int = 0) -> None:
        self._chunks = chunks
        self.text = ""
        self.pos = 0
        self.eof = False
        self.broken = False  # set when a fatal error ended the record array
        self.base_chars = 0  # characters of the file before ``text``
        self.base_bytes = offset  # bytes of the file before ``text``
        self._text_bytes = 0
        self._last_length = 0  # of the last element found quickly
        self._alike_misses = 0  # consecutive times that search found no element
        self._long_numbers = False  # whether text holds a run of 19 digits

    @classmethod
    def over(cls, text: str) -> Buffer:
        """A buffer over all of ``text`` (a container record already read)."""
        buf = cls(iter(()))
        buf.text = text
        buf._long_numbers = has_long_digit_run(text)
        return buf

    def more(self, want: int = 1) -> bool:
        """Read on: at least one chunk, and on until ``want`` characters are unread or the
        input ends; False when there was nothing more."""
        if self.eof:
            return False
        pieces: list[str] = []
        nbytes = 0
        unread = len(self.text) - self.pos
        while unread < want or not pieces:
            try:
                piece, n = next(self._chunks)
            except StopIteration:
                self.eof = True
                break
            pieces.append(piece)
            nbytes += n
            unread += len(piece)
        if not pieces:
            return False
        rest = self.text[self.pos :]
        # Only the kept tail is measured, not the dropped text: on the fast path it is short.
        rest_bytes = len(rest) if rest.isascii() else _byte_length(rest)
        self.base_chars += self.pos
        self.base_bytes += self._text_bytes - rest_bytes
        new = pieces[0] if len(pieces) == 1 else "".join(pieces)
        self.text = rest + new
        self._text_bytes = rest_bytes + nbytes
        self.pos = 0
        # One pass over the text read instead of one per element (see ``loads``): the new
        # text with the end of the kept text (a run may straddle them), and the kept text
        # again only if it may hold one.
        self._long_numbers = has_long_digit_run(rest[-_RUN:] + new[:_RUN]) or (
            has_long_digit_run(new) or (self._long_numbers and has_long_digit_run(rest))
        )
        return True

    def _loads(self, text: str) -> Any:
        """``loads`` of a piece of ``self.text``."""
        return loads(text) if self._long_numbers else orjson.loads(text)

    def byte_at(self, pos: int) -> int:
        """The file's byte offset of ``text[pos]`` (after gunzipping)."""
        head = self.text[:pos]
        return self.base_bytes + (len(head) if head.isascii() else _byte_length(head))

    def skip_ws(self) -> str:
        """Advance past white space; return the next character or "" at the end."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in WS:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def decode_value(self, quick: bool = True) -> tuple[Any, str] | Failure:
        """Decode the JSON value at pos, reading more as needed; on failure pos stays at the
        value's start (the text before it may have been dropped)."""
        if quick and self.text.startswith("{", self.pos):
            found = self._decode_object_quickly()
            if found is not None:
                return found
        while True:
            try:
                obj, end = DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                offset = exc.pos - self.pos
                message = exc.msg.removesuffix(" at")  # "Invalid control character at"
                # A value cut by the end of the text fails in an unterminated string or in
                # what follows its last bracket, quote, comma or colon; any other error is
                # in the value itself, and reading on would only read a bad record whole.
                cut = message.startswith("Unterminated string") or not _STRUCTURAL.search(
                    self.text, exc.pos
                )
                if not cut:
                    return Failure("invalid", message, offset)
                unread = len(self.text) - self.pos
                if unread > MAX_RECORD_CHARS:
                    return Failure(
                        "large", f"record larger than {MAX_RECORD_CHARS} characters", offset
                    )
                # Each try parses the value from its start: a value already this large (one
                # pretty-printed wrapper object, say) reads on to its size limit at once.
                if not self.more(MAX_RECORD_CHARS + 1 if unread >= _LARGE_VALUE else 1):
                    return Failure("cut", message, offset)
                continue
            text = self.text[self.pos : end]
            self.pos = end
            return obj, text

    def _decode_object_quickly(self) -> tuple[Any, str] | None:
        """An array element object found by its likely end and checked by orjson, or None.

        An element of a record array ends at a "}" followed by "," and "{", or by "]". Such
        a sequence can also sit inside the element (an array of objects, or a string), but
        then the text up to it is not one complete JSON object and orjson refuses it, so an
        accepted text is exactly the element. This is several times faster than the
        standard decoder, which stays the fallback (values orjson refuses, records that
        need more input, or too many false ends).
        """
        found = self._decode_at_next_alike(self.pos)
        return found if found is not None else self._decode_to_an_end(_ELEMENT_END)

    def decode_pretty_object(self) -> tuple[Any, str] | None:
        """The pretty-printed object at pos (its "{" alone on its line), or None.

        Pretty-printing indents what is nested, and a line break inside a string is
        written as an escape, so a "}" at the start of a line closes a top-level object;
        orjson checks the text up to it. This is several times faster than the standard
        decoder, which stays the fallback (a value cut by the end of the text read so far,
        a value orjson refuses, or one printed some other way)."""
        return self._decode_to_an_end(_TOP_LEVEL_CLOSE)

    def _decode_to_an_end(self, ends: re.Pattern[str]) -> tuple[Any, str] | None:
        """The value at pos, ending at the "}" (group 1) of one of the next few matches of
        ``ends`` where orjson accepts the text up to it; None when none does."""
        start = search = self.pos
        for _ in range(_QUICK_TRIES):
            m = ends.search(self.text, search)
            if m is None:
                return None
            end = m.end(1)
            text = self.text[start:end]
            try:
                obj = self._loads(text)
            except ValueError:
                search = end
                continue
            self.pos = end
            self._last_length = end - start
            return obj, text
        return None

    def _decode_at_next_alike(self, start: int) -> tuple[Any, str] | None:
        """The element at ``start`` ended where the next one starts with the same member name.

        A producer writes its records alike, while an array of objects inside a record (a
        CloudTrail event's ``resources``) ends at "}]" or starts its objects with other names:
        each such false end costs the generic search a failed decode. The search is limited
        to a few times the last element's length, and stops for the buffer once it keeps
        missing (records that do not start alike)."""
        if self._alike_misses >= _ALIKE_GIVE_UP:
            return None
        name = _FIRST_NAME.match(self.text, start)
        if name is None:
            self._alike_misses += 1
            return None
        pattern = _next_alike(name.group(1))
        window = max(_ALIKE_MIN_WINDOW, 4 * self._last_length)
        m = pattern.search(self.text, start, start + window)
        if m is None:
            self._alike_misses += 1
            return None
        end = m.start() + 1
        text = self.text[start:end]
        try:
            obj = self._loads(text)
        except ValueError:
            self._alike_misses += 1
            return None
        self._alike_misses = 0
        self._last_length = end - start
        self.pos = end
        return obj, text


@functools.lru_cache(maxsize=64)
def _next_alike(name: str) -> re.Pattern[str]:
    """An element's end followed by the start of one whose first member is ``name``."""
    return re.compile(r"\}\s*,\s*\{\s*" + re.escape(name) + r"\s*:")


_ALIKE_MIN_WINDOW = 1 << 14
_ALIKE_GIVE_UP = 8


def loads(text: str) -> Any:
    """orjson's decoding, except where it would lose a value.

    orjson turns integers wider than 64 bits into floats; an identifier written as a long
    number must keep every digit, so such texts go to the standard decoder. Raises
    ValueError (both decoders' errors derive from it) on invalid JSON.
    """
    # A byte table maps digits to "0" and everything else to " ": one fast C pass, then a
    # substring search (a regular expression costs ten times as much per record).
    if has_long_digit_run(text):
        return json.loads(text)
    return orjson.loads(text)


def has_long_digit_run(text: str) -> bool:
    """Whether ``text`` may hold an integer of 19 digits or more (one orjson might not keep
    whole): a run of 19 digits that a number can start with.

    A run inside a string (GCP's 21-digit unique ids, hex session ids) is no such number,
    and is told by the character before it: a number starts after ``:``, ``,``, ``[``,
    white space or a minus sign, never after a quote, a letter or other punctuation. A run
    at the start of the text, whose left neighbour is not known, counts as a number.
    (Digits after a decimal point or an exponent's ``e`` are a float's: both decoders give
    the same float, and orjson refuses one too large for a float, as it does ``1e400``.)

    A container record is looked at twice, when it is decoded and when its records are
    read from its text: the last answer is kept for the same text object."""
    global _last_run_check
    last = _last_run_check
    if text is last[0]:
        return last[1]
    data = text.encode("utf-8", "surrogatepass")
    digits = data.translate(_DIGIT_TABLE)
    found = False
    at = digits.find(_NINETEEN_DIGITS)
    while at != -1:
        start = digits.rfind(b" ", 0, at) + 1  # the run's first digit
        if start == 0 or data[start - 1] in _NUMBER_LEADS:
            found = True
            break
        after = digits.find(b" ", at + _RUN)  # the run's end
        at = -1 if after == -1 else digits.find(_NINETEEN_DIGITS, after)
    _last_run_check = (text, found)  # one tuple: a reader sees a text with its own answer
    return found


_last_run_check: tuple[str | None, bool] = (None, False)
_NUMBER_LEADS = frozenset(b":,[ \t\r\n-")


_DIGIT_TABLE = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_NINETEEN_DIGITS = b"0" * 19  # 2**63 has 19 digits
_RUN = len(_NINETEEN_DIGITS)
_ELEMENT_END = re.compile(r"(\})\s*(?:,\s*\{|\])")
_TOP_LEVEL_CLOSE = re.compile(r"\n(\})")
_QUICK_TRIES = 6


def rest_not_read(at: int) -> str:
    return f"; the rest of the file, from byte {at}, was not read"


# What an error record shows of the text it stands for.
SHOWN_CHARS = 1 << 16
_FIRST_NAME = re.compile(r'\{\s*("(?:[^"\\]|\\.)*")\s*:')
_SKIP_TOKEN = re.compile(r'["{}\[\]]')
_STRING_BODY = re.compile(r'(?:[^"\\]++|\\.)*+', re.S)


def skip_bad_element(
    buf: Buffer, failure: Failure, last: str, src: ByteSource
) -> tuple[str, str, tuple[Any, str] | None]:
    """Move past an array element that cannot be read: its text as shown, the reason, and
    the next element when reading resumed at one; sets ``buf.broken`` when it cannot.

    A large element is skipped by its brackets (strings aside), which ends it exactly. After
    invalid JSON the brackets cannot be trusted, so reading resumes at the next object that
    starts with the same member name as this element or the one before (a producer writes its
    records alike), reads whole and is followed by "," or "]"; without one, the rest of the
    file is reported as not read.
    """
    start = buf.pos
    shown = buf.text[start : start + SHOWN_CHARS]
    start_char = buf.base_chars + start
    at = buf.byte_at(start)
    reason = failure.reason(buf.text[start : start + failure.offset])
    if failure.kind == "cut" and src.failure:
        buf.broken = True
        return shown, src.failure, None
    if failure.kind == "large":
        if _skip_value(buf):
            skipped = buf.base_chars + buf.pos - start_char
            return shown[:skipped], f"{reason} (bytes {at} to {buf.byte_at(buf.pos)} skipped)", None
        buf.broken = True
        return shown, src.failure or f"{reason}; the file ends inside it (from byte {at})", None
    names = {m.group(1) for t in (shown, last) if (m := _FIRST_NAME.match(t))}
    if names:
        found = _next_sibling(buf, names)
        if found is not None:
            resumed_char, resumed_byte, element = found
            reason += f" (bytes {at} to {resumed_byte} skipped)"
            return shown[: resumed_char - start_char], reason, element
    buf.broken = True
    if failure.kind == "cut":
        return shown, f"{reason}; the file ends inside this record", None
    return shown, reason + "; no later record could be found" + rest_not_read(at), None


def _next_sibling(buf: Buffer, names: set[str]) -> tuple[int, int, tuple[Any, str]] | None:
    """The next array element after pos that starts with one of ``names``, reads whole and is
    followed by "," or "]" or the end: its character and byte offsets and the element."""
    alternatives = "|".join(re.escape(n) for n in names)
    start = re.compile(rf"\{{\s*(?:{alternatives})\s*:")
    keep = 1024 + max(len(n) for n in names)  # a start cut by the end of the text
    search = buf.pos + 1
    while True:
        m = start.search(buf.text, search)
        if m is None:
            buf.pos = max(search, len(buf.text) - keep)
            if not buf.more():
                return None
            search = 0
            continue
        buf.pos = m.start()
        char, byte = buf.base_chars + buf.pos, buf.byte_at(buf.pos)
        result = buf.decode_value()
        if isinstance(result, Failure):
            search = buf.pos + 1
        elif isinstance(result[0], dict) and buf.skip_ws() in (",", "]", ""):
            return char, byte, result
        else:
            search = buf.pos


def _skip_value(buf: Buffer) -> bool:
    """Move pos past the JSON value at pos by its brackets, streaming; False at the end."""
    depth = 0
    in_string = False
    while True:
        text, pos = buf.text, buf.pos
        while True:
            if in_string:
                end = _STRING_BODY.match(text, pos).end()  # type: ignore[union-attr]
                if end >= len(text) or text[end] != '"':
                    pos = end  # the text ends inside the string (maybe after a backslash)
                    break
                pos = end + 1
                in_string = False
                if depth == 0:
                    buf.pos = pos
                    return True
                continue
            m = _SKIP_TOKEN.search(text, pos)
            if m is None:
                pos = len(text)
                break
            pos = m.end()
            c = m.group()
            if c == '"':
                in_string = True
            elif c in "{[":
                depth += 1
            else:
                depth -= 1
                if depth <= 0:
                    buf.pos = pos
                    return True
        buf.pos = pos
        if not buf.more():
            return False


_WS_RUN = re.compile(r"[ \t\r\n]*")
_NEXT_OBJECT = re.compile(r"(?<=[\n}])\{")


def skip_blank(buf: Buffer, line: int) -> tuple[str, int]:
    """Advance past white space, counting lines; the next character ("" at the end)."""
    while True:
        text, pos = buf.text, buf.pos
        end = _WS_RUN.match(text, pos).end()  # type: ignore[union-attr]
        line += text.count("\n", pos, end)
        buf.pos = end
        if end < len(text):
            return text[end], line
        if not buf.more():
            return "", line


def skip_bad_object(
    buf: Buffer, reason: str, cut: bool, index: int, line: int
) -> tuple[RawRecord, int]:
    """The error record for the stretch from pos (on ``line``) to the next object or the end,
    and the line reading resumes at; pos is left there. ``cut``: the end of the file cut
    the stretch's first value short."""
    start = buf.pos
    shown = buf.text[start : start + SHOWN_CHARS]
    start_char, at = buf.base_chars + start, buf.byte_at(start)
    resumed = line
    counted, search = start, start + 1  # lines are counted up to ``counted``
    while True:
        m = _NEXT_OBJECT.search(buf.text, search)
        if m is not None:
            resumed += buf.text.count("\n", counted, m.start())
            buf.pos = m.start()
            reason += f" (bytes {at} to {buf.byte_at(buf.pos)} skipped)"
            break
        end = len(buf.text)
        resumed += buf.text.count("\n", counted, end)
        buf.pos = max(buf.pos, end - 1)  # keep the character a "{" may follow
        kept = end - buf.pos
        if not buf.more():
            buf.pos = len(buf.text)
            if cut:
                reason += "; the file ends inside this record"
            else:
                reason += "; no later record could be found" + rest_not_read(at)
            break
        counted = search = kept
    skipped = buf.base_chars + buf.pos - start_char
    return RawRecord(index, f"line {line}", shown[:skipped], None, reason), resumed

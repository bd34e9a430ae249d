import logging


class SafeFormatter(logging.Formatter):
    """Escapes CR, LF and other control characters so one record is always one line."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return "".join(ch if ch >= " " or ch == "\t" else ch.encode("unicode_escape").decode() for ch in text)

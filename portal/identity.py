"""Personal identifiers: the resident ID number (GB 11643-1999), mobile numbers, and masking.

These are plain functions, tested without HTTP; forms, templates and exports all go through them.
"""
import datetime as dt
import re

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


class InvalidIdNumber(ValueError):
    """Raised with a Chinese message saying what is wrong with an ID number."""


def id_check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def normalise_id_number(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "")


def validate_id_number(raw: str, today: dt.date | None = None) -> str:
    """Return the normalised 18-character ID number, or raise :class:`InvalidIdNumber`.

    Checks the form, the birth date (a real date, not in the future, not before 1900) and the
    check digit; the region prefix is only checked for a plausible province code.
    """
    value = normalise_id_number(raw)
    if not _ID_RE.match(value):
        raise InvalidIdNumber("身份证号码应为18位，前17位为数字，最后一位为数字或X")
    if not (11 <= int(value[:2]) <= 82):
        raise InvalidIdNumber("身份证号码的地区代码不正确")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber("身份证号码中的出生日期不存在") from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1900:
        raise InvalidIdNumber("身份证号码中的出生日期不合理")
    if id_check_digit(value[:17]) != value[17]:
        raise InvalidIdNumber("身份证号码校验位不正确，请核对后重新输入")
    return value


def birth_date_of(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def mask_id_number(id_number: str | None) -> str:
    """``220102199003071234`` → ``2201**********1234``: region and last four kept."""
    if not id_number:
        return ""
    if len(id_number) < 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def is_mobile(raw: str) -> bool:
    return bool(MOBILE_RE.match((raw or "").strip()))


def mask_mobile(mobile: str | None) -> str:
    """``13812345678`` → ``138****5678``."""
    if not mobile:
        return ""
    if len(mobile) != 11:
        return mobile[:2] + "*" * max(len(mobile) - 4, 0) + mobile[-2:]
    return mobile[:3] + "****" + mobile[-4:]


def mask_name(name: str | None) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``: the surname stays so people recognise the party."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1 if len(name) > 1 else 1)


def make_id_number(region6: str, birth: dt.date, seq3: str) -> str:
    """Build a valid ID number (for demo data and tests)."""
    first17 = f"{region6}{birth:%Y%m%d}{seq3}"
    return first17 + id_check_digit(first17)

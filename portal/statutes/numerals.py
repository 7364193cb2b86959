"""Chinese numerals of article numbers: 第一千二百六十条 → 1260 and back."""
from __future__ import annotations

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS)
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def cn_to_int(text: str) -> int:
    """Convert a Chinese (一千零四十二, 十七) or Arabic (17, １７) numeral to an int.

    Raises ``ValueError`` for anything else.
    """
    text = (text or "").strip().translate(_FULLWIDTH)
    if not text:
        raise ValueError("空的数字")
    if text.isdigit():
        return int(text)
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in DIGITS and DIGITS[ch] == 0 and digit is None:
            continue  # 一百零一: the zero only marks a gap
        if ch in DIGITS:
            if digit is not None and digit != 0:
                # 一二三 style (digit by digit), as in 二〇二一
                digit = digit * 10 + DIGITS[ch]
            else:
                digit = DIGITS[ch]
        elif ch in UNITS:
            unit = UNITS[ch]
            if unit == 10000:
                section = (section + (digit or 0)) * unit
                total += section
                section = 0
            else:
                section += (1 if digit is None else digit) * unit
            digit = None
        else:
            raise ValueError(f"不是数字：{text}")
    return total + section + (digit or 0)


def int_to_cn(n: int) -> str:
    """1260 → 一千二百六十; 10 → 十; 17 → 十七; 1042 → 一千零四十二 (the form used in statute texts)."""
    if n < 0:
        raise ValueError("负数")
    if n == 0:
        return "零"
    names = "零一二三四五六七八九"
    if n >= 10000:
        high, low = divmod(n, 10000)
        rest = int_to_cn(low) if low else ""
        return int_to_cn(high) + "万" + ("零" if 0 < low < 1000 else "") + rest
    parts = []
    zero = False
    for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, unit)
        if d:
            if zero:
                parts.append("零")
                zero = False
            parts.append(names[d] + name)
        elif parts:
            zero = True
    text = "".join(parts)
    if text.startswith("一十"):
        text = text[1:]
    return text


def article_label(number: int, suffix: int = 0) -> str:
    """第三十三条, 第十条之一."""
    return f"第{int_to_cn(number)}条" + (f"之{int_to_cn(suffix)}" if suffix else "")

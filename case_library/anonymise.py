"""Anonymisation (脱敏) of case texts before submission.

* Known parties' names become surname + 某 (张某); a second person of the same surname becomes
  张某某, a third 张某甲, and so on; the same person keeps one placeholder through all sections.
* ID numbers, mobile and landline numbers, number plates, bank accounts and street-level
  addresses are removed (replaced by a bracketed note).
* Names not known in advance are detected with jieba's part-of-speech tagging (flag ``nr``) and
  offered to the author; those the author picks are masked like the parties' names.
* :func:`remaining_sensitive` is the final check: a looser search (digits with separators) that
  refuses submission while anything resembling an ID or phone number remains.

The reviewer sees a list of what was replaced, with each original masked (张*国, 2201…1234).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from portal.identity import mask_id_number, mask_name

COMPOUND_SURNAMES = (
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "夏侯", "令狐",
    "宇文", "司徒", "西门", "南宫", "独孤", "端木", "申屠", "轩辕", "呼延", "百里", "万俟", "闻人",
)
#: Common surnames (百家姓, the most frequent ~120): a tagged "name" must start with one.
COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢"
    "安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛"
)
_SUFFIXES = ("某", "某某", "某甲", "某乙", "某丙", "某丁", "某戊", "某己", "某庚", "某辛", "某壬", "某癸")

#: Full-width digits and X are folded to ASCII first, so ``１３８…`` cannot slip through.
_FOLD = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "Ｘ": "X", "ｘ": "x", "－": "-"})

PLACEHOLDERS = {
    "id": "（身份证号码已隐去）",
    "account": "（账号已隐去）",
    "mobile": "（电话号码已隐去）",
    "landline": "（电话号码已隐去）",
    "plate": "（车牌号已隐去）",
    "address": "（详细地址已隐去）",
}
KIND_LABELS = {"name": "姓名", "id": "身份证号码", "account": "银行账号", "mobile": "手机号码",
               "landline": "固定电话", "plate": "车牌号", "address": "详细地址"}

_PROVINCE_ABBR = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_NOT_STREET = r"\s\d，。、；：,.;:！？（）()“”\"'省市区县镇乡村州盟旗"

#: (kind, pattern), applied in this order.
PATTERNS: list[tuple[str, re.Pattern]] = [
    # Long digit runs: 15/18 characters are ID numbers, other lengths of 12+ are accounts.
    ("digits", re.compile(r"\d{12,}[Xx]?")),
    # Bank cards written in groups of four.
    ("account", re.compile(r"(?<!\d)\d{4}(?:[ \-]\d{4}){2,4}(?:[ \-]\d{1,3})?(?!\d)")),
    ("mobile", re.compile(r"(?<!\d)(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}(?!\d)")),
    ("landline", re.compile(r"(?<!\d)(?:（0\d{2,3}）|\(0\d{2,3}\)|0\d{2,3})[ \-]?\d{7,8}(?:[-转]\d{1,5})?(?!\d)")),
    ("plate", re.compile(rf"[{_PROVINCE_ABBR}][A-HJ-NP-Z][·•・\s]?[A-HJ-NP-Z0-9]{{4,5}}[A-HJ-NP-Z0-9挂学警]")),
    ("address", re.compile(
        rf"[^{_NOT_STREET}]{{1,8}}?(?:路|街|大街|大道|巷|胡同|弄|里)\d+(?:-\d+)?号"
        r"(?:(?:院|楼)?\d+(?:-\d+)?(?:号楼|栋|幢|单元|层|楼|室|号|户))*"
    )),
    ("address", re.compile(
        rf"[^{_NOT_STREET}]{{2,8}}?(?:小区|花园|公寓|大厦|新村|家园|苑|庭)\d+(?:号楼|栋|幢)"
        r"(?:\d+(?:单元|层|楼|室|号|户))*"
    )),
    ("address", re.compile(r"\d+(?:号楼|栋|幢)\d+单元(?:\d+(?:层|楼|室|号|户))*")),
]

#: The final check: digits possibly broken by spaces, dots or dashes.
_SEP_DIGITS = re.compile(r"\d(?:[\s\-.·_/]*\d)+")
_LOOSE_ID = re.compile(r"\d{17}[\dXx]|\d{15}")
_LOOSE_MOBILE = re.compile(r"1[3-9]\d{9}")


@dataclass
class Replacement:
    kind: str
    original: str
    placeholder: str
    section: str
    count: int = 1

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": KIND_LABELS.get(self.kind, self.kind),
                "original": mask_original(self.kind, self.original), "placeholder": self.placeholder,
                "section": self.section, "count": self.count}


@dataclass
class AnonymisedText:
    sections: dict[str, str]
    replacements: list[Replacement] = field(default_factory=list)
    placeholders: dict[str, str] = field(default_factory=dict)

    def replacement_dicts(self) -> list[dict]:
        return [r.as_dict() for r in self.replacements]


def surname_of(name: str) -> str:
    for s in COMPOUND_SURNAMES:
        if name.startswith(s) and len(name) > len(s):
            return s
    return name[:1]


def clean_names(names) -> list[str]:
    """Distinct names of 2–6 Chinese characters (or longer mixed names), in order, without 某."""
    out: list[str] = []
    for n in names or ():
        n = (n or "").strip()
        if len(n) < 2 or len(n) > 20 or "某" in n or n in out:
            continue
        out.append(n)
    return out


def assign_placeholders(names) -> dict[str, str]:
    """Each distinct name → surname + 某 / 某某 / 某甲…, distinct per person."""
    used: dict[str, int] = {}
    result: dict[str, str] = {}
    for name in clean_names(names):
        surname = surname_of(name)
        n = used.get(surname, 0)
        used[surname] = n + 1
        suffix = _SUFFIXES[n] if n < len(_SUFFIXES) else f"某{n + 1}"
        result[name] = surname + suffix
    return result


def mask_original(kind: str, original: str) -> str:
    if kind == "name":
        return mask_name(original)
    if kind == "id":
        return mask_id_number(original)
    digits = re.sub(r"\D", "", original)
    if kind in ("mobile", "landline", "account"):
        return (digits[:3] + "*" * max(0, len(digits) - 7) + digits[-4:]) if len(digits) > 7 else "*" * len(digits)
    if kind == "plate":
        return original[:2] + "*" * (len(original) - 2)
    if kind == "address":
        return original[:2] + "…"
    return "***"


def anonymise(sections: dict[str, str], names=(), extra_names=()) -> AnonymisedText:
    """Anonymise every section with one placeholder table, so a person is named the same way
    throughout. ``names``: the parties; ``extra_names``: further names the author chose."""
    placeholders = assign_placeholders(list(names) + list(extra_names))
    name_re = None
    if placeholders:
        name_re = re.compile("|".join(re.escape(n) for n in sorted(placeholders, key=len, reverse=True)))
    found: dict[tuple[str, str, str], Replacement] = {}
    out: dict[str, str] = {}
    for key, text in sections.items():
        text = (text or "").translate(_FOLD)

        def note(kind: str, original: str, placeholder: str, key=key) -> str:
            r = found.get((kind, original, key))
            if r is None:
                found[(kind, original, key)] = Replacement(kind, original, placeholder, key)
            else:
                r.count += 1
            return placeholder

        for kind, pattern in PATTERNS:
            def sub(m, kind=kind):
                original = m.group(0)
                k = kind
                if kind == "digits":
                    bare = original.upper()
                    k = "id" if len(bare) in (15, 18) else "account"
                return note(k, original, PLACEHOLDERS[k])

            text = pattern.sub(sub, text)
        if name_re is not None:
            text = name_re.sub(lambda m: note("name", m.group(0), placeholders[m.group(0)]), text)
        out[key] = text
    return AnonymisedText(sections=out, replacements=list(found.values()), placeholders=placeholders)


def detect_names(sections: dict[str, str], known=()) -> list[str]:
    """Person names found by jieba's part-of-speech tagging (``nr``), not yet masked or known."""
    import jieba.posseg as pseg

    from portal.search import warm_jieba

    warm_jieba()
    known_set = set(clean_names(known))
    found: list[str] = []
    for text in sections.values():
        for pair in pseg.cut(text or ""):
            word, flag = pair.word.strip(), pair.flag
            if flag != "nr" or len(word) < 2 or len(word) > 4 or "某" in word:
                continue
            if word[0] not in COMMON_SURNAMES and not word.startswith(COMPOUND_SURNAMES):
                continue
            if word in known_set or word in found:
                continue
            found.append(word)
    return found


def remaining_sensitive(sections: dict[str, str]) -> list[tuple[str, str]]:
    """(section, kind label) of anything that still looks like an ID or phone number."""
    problems = []
    for key, text in sections.items():
        text = (text or "").translate(_FOLD)
        for m in _SEP_DIGITS.finditer(text):
            digits = re.sub(r"[^\dXx]", "", m.group(0))
            if _LOOSE_ID.search(digits + text[m.end():m.end() + 1].upper().replace("X", "X")):
                problems.append((key, "身份证号码"))
            elif _LOOSE_MOBILE.search(digits):
                problems.append((key, "手机号码"))
        for kind, pattern in PATTERNS:
            if kind in ("digits", "mobile", "landline") and pattern.search(text):
                problems.append((key, KIND_LABELS["id" if kind == "digits" else kind]))
    return list(dict.fromkeys(problems))

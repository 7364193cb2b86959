import pytest

from portal.statutes.numerals import article_label, cn_to_int, int_to_cn


@pytest.mark.parametrize("text,value", [
    ("一", 1), ("十", 10), ("十七", 17), ("二十", 20), ("三十三", 33), ("一百", 100), ("一百零一", 101),
    ("一百一十", 110), ("二百零五", 205), ("一千零四十二", 1042), ("一千二百六十", 1260), ("两百", 200),
    ("17", 17), ("１７", 17), ("1260", 1260),
])
def test_cn_to_int(text, value):
    assert cn_to_int(text) == value


@pytest.mark.parametrize("bad", ["", "条", "三a"])
def test_cn_to_int_refuses_non_numbers(bad):
    with pytest.raises(ValueError):
        cn_to_int(bad)


def test_int_to_cn_round_trips_every_article_number():
    for n in range(1, 3000):
        assert cn_to_int(int_to_cn(n)) == n
    assert int_to_cn(10) == "十" and int_to_cn(1042) == "一千零四十二" and int_to_cn(110) == "一百一十"


def test_article_label():
    assert article_label(1260) == "第一千二百六十条"
    assert article_label(10, 1) == "第十条之一"

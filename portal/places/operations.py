"""Loading the official division codes, and the organisation operations used by admin pages."""
from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from portal import audit
from portal.extensions import db
from portal.places.models import DISPUTE_TYPES, Organisation, OrganisationKind, Region, RegionLevel

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "regions"


class PlaceError(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def pad_code(code: str) -> str:
    return code.ljust(12, "0")


def load_regions(data_dir: Path = DATA_DIR, provinces: tuple[str, ...] | None = None) -> int:
    """Load provinces, cities, counties and townships from the NBS CSV files (idempotent).

    Returns the number of regions added. Rows whose code already exists are left alone, so a
    second run adds nothing.
    """
    existing = {c: i for c, i in db.session.execute(select(Region.code, Region.id))}
    added = 0
    files = (
        ("provinces.csv", RegionLevel.province, None),
        ("cities.csv", RegionLevel.city, "provinceCode"),
        ("areas.csv", RegionLevel.county, "cityCode"),
        ("streets.csv", RegionLevel.township, "areaCode"),
    )
    for filename, level, parent_col in files:
        with open(data_dir / filename, encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        new = []
        for row in rows:
            if provinces and row["code"][:2] not in provinces:
                continue
            code = pad_code(row["code"])
            if code in existing:
                continue
            parent_id = existing.get(pad_code(row[parent_col])) if parent_col else None
            if parent_col and parent_id is None:
                continue  # a parent outside the loaded set
            new.append(Region(code=code, name=row["name"], level=int(level), parent_id=parent_id))
        db.session.add_all(new)
        db.session.flush()
        existing.update({r.code: r.id for r in new})
        added += len(new)
    return added


def region_by_code(code: str | None) -> Region | None:
    if not code:
        return None
    return db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none()


def add_village(actor, township: Region, name: str, code: str | None = None, is_demo: bool = False) -> Region:
    """Add a village or community under a township (the CSV data stop at townships)."""
    if township.level != RegionLevel.township:
        raise PlaceError("村（社区）只能添加在乡镇（街道）之下", "parent")
    name = (name or "").strip()
    if not name or len(name) > 40:
        raise PlaceError("请填写村（社区）名称（不超过40字）", "name")
    if code is None:
        taken = {r.code for r in township.children}
        for n in range(200, 400):
            candidate = township.code[:9] + f"{n:03d}"
            if candidate not in taken:
                code = candidate
                break
    if not (code and code.isdigit() and len(code) == 12 and code.startswith(township.code[:9])):
        raise PlaceError("村级代码应为12位，且前9位与所属乡镇一致", "code")
    if region_by_code(code):
        raise PlaceError("该行政区划代码已存在", "code")
    village = Region(code=code, name=name, level=int(RegionLevel.village), parent_id=township.id, is_demo=is_demo)
    db.session.add(village)
    db.session.flush()
    audit.record(actor, "region.add", "region", village.id, code=code, name=name)
    return village


def save_organisation(actor, org: Organisation | None, *, name: str, kind: str, region: Region,
                      dispute_types: list[str], address: str = "", phone: str = "", active: bool = True) -> Organisation:
    kind = OrganisationKind(kind)
    unknown = [t for t in dispute_types if t not in DISPUTE_TYPES]
    if unknown:
        raise PlaceError(f"未知的纠纷类型：{'、'.join(unknown)}", "dispute_types")
    if not dispute_types:
        raise PlaceError("请至少选择一种受理的纠纷类型", "dispute_types")
    expected_level = {
        OrganisationKind.village: (RegionLevel.village,),
        OrganisationKind.township: (RegionLevel.township,),
    }.get(kind, (RegionLevel.county, RegionLevel.city, RegionLevel.township))
    if region.level not in [int(lv) for lv in expected_level]:
        raise PlaceError(f"{kind.label}所在地区的层级不符", "region_code")
    clash = db.session.execute(select(Organisation).where(Organisation.name == name)).scalar_one_or_none()
    if clash is not None and clash is not org:
        raise PlaceError("已有同名调解组织", "name")
    created = org is None
    if created:
        org = Organisation()
        db.session.add(org)
    org.name, org.kind, org.region_id = name, str(kind), region.id
    org.dispute_types = dispute_types
    org.address, org.phone, org.active = address, phone, active
    db.session.flush()
    audit.record(actor, "organisation.create" if created else "organisation.update", "organisation", org.id,
                 name=name, kind=str(kind), region=region.code)
    return org


def organisations_for(region: Region, dispute_type: str) -> list[Organisation]:
    """Organisations that fit a dispute in ``region``, best first (DESIGN.md §2):
    a professional committee for its type in the county (or city) above, then the township
    committee, then the village committee; petition-office and court windows of the county last."""
    chain = region.ancestors()
    region_ids = [r.id for r in chain]
    orgs = db.session.execute(
        select(Organisation).where(Organisation.region_id.in_(region_ids), Organisation.active.is_(True))
    ).scalars().all()
    fitting = [o for o in orgs if o.takes(dispute_type)]

    def rank(o: Organisation) -> tuple:
        kind = o.kind_enum
        if kind is OrganisationKind.professional:
            return (0, -o.region.level)
        if kind is OrganisationKind.township:
            return (1, 0)
        if kind is OrganisationKind.village:
            return (2, 0)
        return (3, -o.region.level)

    return sorted(fitting, key=lambda o: (rank(o), o.id))

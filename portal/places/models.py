"""Regions (行政区划) and mediation organisations (调解组织), DESIGN.md §2."""
from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db


class RegionLevel(enum.IntEnum):
    province = 1
    city = 2
    county = 3
    township = 4
    village = 5

    @property
    def label(self) -> str:
        return {1: "省", 2: "市", 3: "县（区）", 4: "乡镇（街道）", 5: "村（社区）"}[self.value]


class Region(db.Model):
    __tablename__ = "region"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 12-digit statistical division code (统计用区划代码), shorter official codes padded with zeros.
    code: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[int]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    #: Invented villages under real townships are marked so they are never mistaken for real ones.
    is_demo: Mapped[bool] = mapped_column(default=False)

    parent: Mapped[Region | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent", order_by="Region.code")

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"

    @property
    def level_enum(self) -> RegionLevel:
        return RegionLevel(self.level)

    def ancestors(self) -> list[Region]:
        """From the province down to (and including) this region."""
        chain, node = [], self
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))

    @property
    def full_name(self) -> str:
        return "".join(r.name for r in self.ancestors())

    def is_within(self, other: Region | None) -> bool:
        """True when this region is ``other`` or lies inside it (by code prefix)."""
        if other is None:
            return False
        return self.code.startswith(other.code_prefix)

    @property
    def code_prefix(self) -> str:
        """The significant part of the code: its descendants' codes all start with it."""
        return self.code[: {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}[self.level]]


class OrganisationKind(enum.StrEnum):
    village = "village"
    township = "township"
    professional = "professional"
    petition = "petition"
    court = "court"

    @property
    def label(self) -> str:
        return {
            "village": "村（居）人民调解委员会",
            "township": "乡镇（街道）人民调解委员会",
            "professional": "行业性专业性人民调解委员会",
            "petition": "信访人民调解工作室",
            "court": "驻法院人民调解工作室",
        }[self.value]


#: Dispute types (纠纷类型) an organisation takes and an application names.
DISPUTE_TYPES = (
    "婚姻家庭", "邻里纠纷", "损害赔偿", "劳动争议", "医疗纠纷", "道路交通", "物业纠纷",
    "消费纠纷", "土地承包", "房屋宅基地", "借贷纠纷", "合同纠纷", "山林土地", "其他",
)


class Organisation(db.Model):
    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('village','township','professional','petition','court')", name="kind_valid"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    #: Dispute types taken, joined by "," (a professional committee lists only its own fields).
    dispute_types_csv: Mapped[str] = mapped_column(String(400), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    active: Mapped[bool] = mapped_column(default=True)

    region: Mapped[Region] = relationship()

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name}>"

    @property
    def kind_enum(self) -> OrganisationKind:
        return OrganisationKind(self.kind)

    @property
    def dispute_types(self) -> list[str]:
        return [t for t in self.dispute_types_csv.split(",") if t]

    @dispute_types.setter
    def dispute_types(self, values) -> None:
        self.dispute_types_csv = ",".join(dict.fromkeys(v.strip() for v in values if v.strip()))

    def takes(self, dispute_type: str) -> bool:
        return dispute_type in self.dispute_types

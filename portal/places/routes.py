"""Region picker API: the children of a region, for the cascading selects of every form."""
from flask import abort, jsonify
from sqlalchemy import select

from portal.extensions import db
from portal.places import bp
from portal.places.models import Region


@bp.get("/roots")
def roots():
    rows = db.session.execute(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code)).scalars()
    return jsonify([{"code": r.code, "name": r.name, "level": r.level} for r in rows])


@bp.get("/<code>/children")
def children(code: str):
    if not (code.isdigit() and len(code) == 12):
        abort(404)
    region = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none() or abort(404)
    return jsonify([{"code": r.code, "name": r.name, "level": r.level} for r in region.children])


@bp.get("/<code>")
def show(code: str):
    if not (code.isdigit() and len(code) == 12):
        abort(404)
    region = db.session.execute(select(Region).where(Region.code == code)).scalar_one_or_none() or abort(404)
    return jsonify({"code": region.code, "name": region.name, "level": region.level,
                    "path": [{"code": r.code, "name": r.name, "level": r.level} for r in region.ancestors()]})

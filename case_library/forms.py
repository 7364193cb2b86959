"""Forms of the case library; the operations repeat every check that matters."""
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import CleanStringField, CleanTextAreaField, PortalForm
from portal.places.models import DISPUTE_TYPES

#: Section key → form field name ("process" would hide ``Form.process``).
FIELD_NAMES = {"process": "mediation_process"}


def field_name(key: str) -> str:
    return FIELD_NAMES.get(key, key)


class CaseEditForm(PortalForm):
    title = CleanStringField("标题", validators=[DataRequired("请填写标题"), Length(max=120, message="标题不超过120字")])
    dispute_type = SelectField("纠纷类型", choices=[("", "请选择")] + [(t, t) for t in DISPUTE_TYPES],
                               validators=[DataRequired("请选择纠纷类型")])
    region_code = CleanStringField("地区", validators=[DataRequired("请选择案例所在地区（至少到县级）")])
    keywords = CleanStringField("关键词", validators=[Optional(), Length(max=200, message="关键词不超过200字")])
    basic_facts = CleanTextAreaField("基本案情", validators=[Optional(), Length(max=20000)])
    mediation_process = CleanTextAreaField("调解过程", validators=[Optional(), Length(max=20000)])
    result = CleanTextAreaField("调解结果", validators=[Optional(), Length(max=20000)])
    commentary = CleanTextAreaField("案例评析", validators=[Optional(), Length(max=20000)])
    legal_basis = CleanTextAreaField("法律依据", validators=[Optional(), Length(max=20000)])
    party_names = CleanTextAreaField("当事人姓名（每行一个，提交时替换为“张某”等，不会公开）",
                                     validators=[Optional(), Length(max=1000)])
    source_case_id = HiddenField()


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SubmitCaseForm(PortalForm):
    extra_names = MultiCheckboxField("同时隐去以下可能的人名", choices=[], validate_choice=False)
    version = HiddenField()


class ReviewForm(PortalForm):
    action = RadioField("审核意见", choices=[("approve", "通过"), ("return", "退回修改"), ("reject", "不予采用")],
                        validators=[DataRequired("请选择审核意见")])
    comment = CleanTextAreaField("意见或理由（退回、不予采用时必填）", validators=[Optional(), Length(max=2000)])
    version = HiddenField()


class UnpublishForm(PortalForm):
    reason = CleanTextAreaField("撤销发布的理由", validators=[DataRequired("请填写撤销发布的理由"), Length(max=2000)])
    version = HiddenField()


class FeatureForm(PortalForm):
    featured = HiddenField()


class RepublishForm(PortalForm):
    reason = CleanTextAreaField("重新发布的理由", validators=[DataRequired("请填写重新发布的理由"), Length(max=2000)])
    version = HiddenField()


class ReviewChainForm(PortalForm):
    region_code = CleanStringField("地区代码（12位）", validators=[DataRequired("请填写地区代码"), Length(max=12)])
    tiers = MultiCheckboxField("审核层级（从低到高，最后一级发布）", choices=[], validate_choice=False)

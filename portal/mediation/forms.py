"""Forms of online mediation; every check that matters is repeated in the operations."""
from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    MultipleFileField,
    PasswordField,
    RadioField,
    SelectField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.forms import CleanStringField, CleanTextAreaField, PortalForm
from portal.places.models import DISPUTE_TYPES

REFERRAL_CHOICES = [
    ("litigation", "向人民法院起诉"), ("arbitration", "申请仲裁"),
    ("administrative", "向行政机关申请处理"), ("legal_aid", "申请法律援助"),
]


class RespondentEntryForm(Form):
    name = CleanStringField("姓名", validators=[Optional(), Length(max=40)])
    mobile = CleanStringField("手机号码", validators=[Optional(), Length(max=11)])
    id_number = CleanStringField("身份证号码（选填）", validators=[Optional(), Length(max=18)])


class CaseApplyForm(PortalForm):
    dispute_type = SelectField("纠纷类型", choices=[("", "请选择")] + [(t, t) for t in DISPUTE_TYPES],
                               validators=[DataRequired("请选择纠纷类型")])
    region_code = CleanStringField("纠纷发生地", validators=[DataRequired("请选择纠纷发生地，具体到村（社区）")])
    organisation_id = SelectField("调解组织", choices=[("", "由系统推荐")], validate_choice=False)
    respondents = FieldList(FormField(RespondentEntryForm), min_entries=1, max_entries=5)
    amount = DecimalField("争议金额（元，选填）", places=2, validators=[
        Optional(), NumberRange(min=0, message="争议金额不能为负数")])
    facts = CleanTextAreaField("事实和理由", validators=[DataRequired("请填写事实和理由"), Length(max=5000)])
    claims = CleanTextAreaField("调解请求", validators=[DataRequired("请填写调解请求"), Length(max=2000)])
    evidence = MultipleFileField("证据材料（图片、PDF、音频，单个不超过10MB，选填）")


class ReasonForm(PortalForm):
    reason = CleanTextAreaField("理由", validators=[Optional(), Length(max=2000)])


class DeclineForm(PortalForm):
    reason = CleanTextAreaField("不予受理的理由", validators=[DataRequired("请填写不予受理的理由"), Length(max=1000)])
    referral = RadioField("建议的解决途径", choices=REFERRAL_CHOICES, validators=[InputRequired("请选择建议的解决途径")])


class FailForm(PortalForm):
    reason = CleanTextAreaField("调解不成的原因", validators=[DataRequired("请填写调解不成的原因"), Length(max=2000)])
    referral = RadioField("建议的解决途径", choices=REFERRAL_CHOICES, validators=[InputRequired("请选择建议的解决途径")])


class ActionForm(PortalForm):
    """A bare confirmation (accept, consent): only the CSRF token."""


class AssignForm(PortalForm):
    mediator_id = SelectField("调解员", coerce=int, validate_choice=False)


class SessionForm(PortalForm):
    starts_at = DateTimeLocalField("调解时间", format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired("请填写调解时间（年-月-日 时:分）")])
    mode = RadioField("调解方式", choices=[("online", "线上调解（视频调解室）"), ("onsite", "现场调解")],
                      default="onsite", validators=[InputRequired("请选择调解方式")])
    place = CleanStringField("调解地点（现场调解填写）", validators=[Optional(), Length(max=200)])


class ExtendForm(PortalForm):
    reason = CleanTextAreaField("延长理由", validators=[DataRequired("请填写延长期限的理由"), Length(max=1000)])


class AgreementForm(PortalForm):
    main_facts = CleanTextAreaField("纠纷的主要事实", validators=[DataRequired("请填写纠纷的主要事实"), Length(max=5000)])
    disputed_matters = CleanTextAreaField("争议事项", validators=[DataRequired("请填写争议事项"), Length(max=5000)])
    responsibilities = CleanTextAreaField("各方当事人的责任", validators=[DataRequired("请填写各方当事人的责任"), Length(max=5000)])
    terms = CleanTextAreaField("协议内容", validators=[DataRequired("请填写双方达成协议的内容"), Length(max=5000)])
    performance_manner = CleanStringField("履行方式", validators=[DataRequired("请填写履行方式"), Length(max=200)])
    performance_place = CleanStringField("履行地点", validators=[DataRequired("请填写履行地点"), Length(max=200)])
    performance_deadline = DateField("履行期限", validators=[DataRequired("请填写履行期限")])


class SignForm(PortalForm):
    typed_name = CleanStringField("请输入您的真实姓名作为签名", validators=[DataRequired("请输入姓名"), Length(max=40)])
    password = PasswordField("登录密码（确认本人操作）", validators=[DataRequired("请输入登录密码")])


class ArchiveForm(PortalForm):
    followup_note = CleanTextAreaField("回访情况", validators=[DataRequired("请填写回访情况"), Length(max=2000)])


class InvitationForm(PortalForm):
    code = CleanStringField("短信验证码", validators=[DataRequired("请输入短信中的6位验证码"), Length(max=6)])

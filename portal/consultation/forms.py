"""Consultation forms. Lengths are checked again in the operations (the one source of truth);
the form checks give the message beside the field before anything is tried."""
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from portal.consultation.models import (
    ANSWER_MAX,
    CATEGORIES,
    COMMENT_MAX,
    FOLLOW_UP_MAX,
    QUESTION_MAX,
    TITLE_MAX,
)
from portal.forms import CleanStringField, CleanTextAreaField, PortalForm


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ConsultationAskForm(PortalForm):
    category = SelectField("咨询类别", choices=[("", "请选择类别")] + [(c, c) for c in CATEGORIES],
                           validators=[DataRequired("请选择咨询类别")])
    region_code = StringField("所在地区", validators=[
        DataRequired("请选择所在地区"), Regexp(r"^\d{12}$", message="请选择所在地区")])
    title = CleanStringField("标题", validators=[
        DataRequired("请填写标题"), Length(min=4, max=TITLE_MAX, message=f"标题应为4至{TITLE_MAX}个字")])
    question = CleanTextAreaField("问题描述", validators=[
        DataRequired("请填写问题描述"),
        Length(min=10, max=QUESTION_MAX, message=f"问题描述应为10至{QUESTION_MAX}个字")])
    visibility = RadioField("公开方式", choices=[
        ("public", "公开（隐去姓名、电话等个人信息，解答可供他人参考）"),
        ("private", "不公开（仅本人、解答人和管理员可见）")], default="public",
        validators=[InputRequired("请选择是否公开")])
    attachments = MultipleFileField("附件（可选）")


class ConsultationAnswerForm(PortalForm):
    body = TextAreaField("解答内容", validators=[
        DataRequired("请填写解答内容"), Length(max=ANSWER_MAX * 3, message=f"解答内容不能超过{ANSWER_MAX}个字")])
    related_cases = CleanStringField("关联典型案例（可选）", validators=[Optional(), Length(max=300)])


class ConsultationFollowUpForm(PortalForm):
    text = CleanTextAreaField("追问内容", validators=[
        DataRequired("请填写追问内容"),
        Length(min=2, max=FOLLOW_UP_MAX, message=f"追问内容应为2至{FOLLOW_UP_MAX}个字")])


class ConsultationCloseForm(PortalForm):
    rating = RadioField("评分", choices=[(str(i), f"{i}星") for i in range(5, 0, -1)],
                        validators=[InputRequired("请为解答打分（1至5星）")],
                        validate_choice=False)
    comment = CleanTextAreaField("评价（可选）", validators=[
        Optional(), Length(max=COMMENT_MAX, message=f"评价内容不能超过{COMMENT_MAX}个字")])


class ConsultationActionForm(PortalForm):
    """Claim / release: only the CSRF token."""


class WorkerCategoriesForm(PortalForm):
    categories = MultiCheckboxField("我受理的咨询类别（都不选表示全部受理）", choices=[(c, c) for c in CATEGORIES])


class ConsultationSearchForm(PortalForm):
    class Meta:
        csrf = False

    q = CleanStringField("搜索问题", validators=[Optional(), Length(max=100, message="搜索词不超过100字")])
    category = StringField("类别", validators=[Optional()])

from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import CleanStringField, PortalForm
from portal.places.models import DISPUTE_TYPES, OrganisationKind


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OrganisationForm(PortalForm):
    name = CleanStringField("组织名称", validators=[DataRequired("请填写组织名称"), Length(max=120, message="名称不超过120字")])
    kind = SelectField("组织类型", choices=[(k.value, k.label) for k in OrganisationKind])
    region_code = StringField("所在地区（12位区划代码）", validators=[
        DataRequired("请选择所在地区"), Regexp(r"^\d{12}$", message="请选择所在地区")])
    dispute_types = MultiCheckboxField("受理的纠纷类型", choices=[(t, t) for t in DISPUTE_TYPES])
    address = CleanStringField("办公地址", validators=[Optional(), Length(max=200, message="地址不超过200字")])
    phone = CleanStringField("联系电话", validators=[Optional(), Length(max=30, message="电话不超过30字")])
    active = SelectField("状态", choices=[("1", "启用"), ("0", "停用")], default="1")


class VillageForm(PortalForm):
    name = CleanStringField("村（社区）名称", validators=[DataRequired("请填写名称"), Length(max=40, message="名称不超过40字")])
    code = StringField("12位区划代码（留空自动编号）", validators=[Optional(), Regexp(r"^\d{12}$", message="代码应为12位数字")])


class UserSearchForm(PortalForm):
    class Meta:
        csrf = False

    q = CleanStringField("手机号或姓名", validators=[Optional(), Length(max=40)])

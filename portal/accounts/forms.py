"""Account forms. Messages are Chinese and say how to put the input right."""
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from portal.accounts.operations import password_problem
from portal.forms import CleanStringField, PortalForm
from portal.identity import InvalidIdNumber, validate_id_number

MOBILE = Regexp(r"^1[3-9]\d{9}$", message="请输入11位中国大陆手机号码")


class RegistrationForm(PortalForm):
    mobile = CleanStringField("手机号码", validators=[DataRequired("请输入手机号码"), MOBILE])
    real_name = CleanStringField(
        "真实姓名",
        validators=[
            DataRequired("请输入真实姓名"),
            Length(min=2, max=20, message="姓名应为2至20个字"),
            Regexp(r"^[\u4e00-\u9fa5·]{2,20}$", message="姓名只能包含汉字和间隔号“·”"),
        ],
    )
    id_number = CleanStringField(
        "身份证号码", validators=[DataRequired("请输入身份证号码"), Length(max=18, message="身份证号码应为18位")]
    )
    password = PasswordField(
        "密码", validators=[DataRequired("请设置密码"), Length(max=128, message="密码不能超过128位")]
    )
    confirm = PasswordField(
        "确认密码", validators=[DataRequired("请再次输入密码"), EqualTo("password", "两次输入的密码不一致")]
    )
    agree = BooleanField("我已阅读并同意《用户服务协议》和《隐私政策》",
                         validators=[DataRequired("请阅读并同意用户服务协议和隐私政策")])

    def validate_id_number(self, field):
        try:
            field.data = validate_id_number(field.data)
        except InvalidIdNumber as exc:
            raise ValidationError(str(exc)) from None

    def validate_password(self, field):
        problem = password_problem(field.data or "", self.mobile.data or "")
        if problem:
            raise ValidationError(problem)


class LoginForm(PortalForm):
    mobile = CleanStringField("手机号码", validators=[DataRequired("请输入手机号码"), MOBILE])
    password = PasswordField(
        "密码", validators=[DataRequired("请输入密码"), Length(max=128, message="密码不能超过128位")]
    )
    remember = BooleanField("在本机保持登录（公共电脑请勿勾选）")


class PasswordChangeForm(PortalForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=128)])
    password = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=128)])
    confirm = PasswordField(
        "确认新密码", validators=[DataRequired("请再次输入新密码"), EqualTo("password", "两次输入的密码不一致")]
    )


class RoleGrantForm(PortalForm):
    role = SelectField("角色", validators=[DataRequired("请选择角色")])
    organisation_id = SelectField("所属调解组织（调解员、调委会主任）", coerce=int, validators=[Optional()])
    region_code = StringField(
        "辖区或服务地区代码（审核员、法律服务工作者）",
        validators=[Optional(), Regexp(r"^\d{12}$", message="请输入12位行政区划代码")],
    )
    tier = SelectField("审核层级（审核员）", validators=[Optional()])

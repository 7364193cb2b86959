"""The base form of the site: WTForms' own Chinese messages, and a trimmed, cleaned text field."""
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from portal.text import clean_text


class PortalForm(FlaskForm):
    class Meta:
        # WTForms ships Chinese messages; Flask-WTF would otherwise look for Flask-Babel.
        locales = ["zh"]


class CleanStringField(StringField):
    """One-line text: Unicode-normalised, control characters removed, whitespace folded."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = clean_text(self.data, keep_newlines=False) if self.data else self.data


class CleanTextAreaField(TextAreaField):
    """Multi-line text, cleaned the same way but keeping line breaks."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = clean_text(self.data, keep_newlines=True) if self.data else self.data

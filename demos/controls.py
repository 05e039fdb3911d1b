"""The gallery's controls: Gradio's Number, Slider, Radio and Dropdown, whose own checks answer in the student's
language and quote what the student sent.

Gradio checks an input (a slider's range, a radio's choices, a number that is not a number) before the event's
handler runs, and answers in English ("Value -1 is less than minimum value 0."). These controls hand the event a
``Refused`` instead, which ``Page.on`` (demos/kit.py) raises in the event's language, naming the control:
"「シード」に -1 は使えません。0 以上 2147483647 以下にしてください。". Tabs use ``controls.Slider(...)`` where they
would write ``gr.Slider(...)``; everything else is Gradio's.
"""

import math

import gradio as gr

from demos.i18n import COMMON, Refused, label_phrase, shown_value


class _ChecksInLanguage:
    """Mixed into a Gradio input: its ``preprocess`` gives a ``Refused`` where Gradio's would raise."""

    def preprocess(self, payload):
        try:
            return super().preprocess(self.coerce(payload))
        except Exception:  # Gradio's gr.Error in English, or a TypeError for a number sent as text
            return Refused(self.refusal(payload))

    def coerce(self, payload):
        return payload

    def refusal(self, payload):
        raise NotImplementedError


class _Numeric(_ChecksInLanguage):
    def coerce(self, payload):
        """A number sent as text ("7", from a script) counts as that number; anything else is checked as sent."""
        if isinstance(payload, str):
            try:
                number = float(payload)
            except ValueError:
                return payload
            return number if math.isfinite(number) else payload
        if isinstance(payload, float) and not math.isfinite(payload):
            raise ValueError(payload)
        return payload

    def refusal(self, payload):
        name, value = label_phrase(self.label), shown_value(payload)
        if self.minimum is None or self.maximum is None:
            return COMMON.phrase("err.not_number", name=name, value=value)
        return COMMON.phrase("err.range", name=name, value=value, low=_number(self.minimum), high=_number(self.maximum))


class _Choice(_ChecksInLanguage):
    def refusal(self, payload):
        choices = ", ".join(str(value) for _label, value in self.choices)
        name, value = label_phrase(self.label), shown_value(payload)
        return COMMON.phrase("err.choice_of", name=name, value=value, choices=choices)


# Same class names as Gradio's: the page draws each with Gradio's own front-end component of that name.
class Number(_Numeric, gr.Number):
    pass


class Slider(_Numeric, gr.Slider):
    pass


class Radio(_Choice, gr.Radio):
    pass


class Dropdown(_Choice, gr.Dropdown):
    pass


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"

"""A flow defined by a step table (bot.domain.steps.Step): what each step accepts, its
buttons, its parser; the flow's domain module says which step comes next. The questions'
text comes from the flow's template module: ``ask_<step>``, ``choice``, ``summary``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup
from telegram import Message, ReplyKeyboardRemove, Update

from bot.domain.callbacks import button, inline_markup
from bot.domain.invalid import Invalid
from bot.domain.masking import Audience
from bot.domain.steps import Data, Lookup, Step, Updates, contact_refusal
from bot.flows.engine import EDIT, SUMMARY, Cancel, Flow, Next, Result, plain, reply_keyboard
from storage.drafts import Draft


class TableFlow(Flow):
    steps: Mapping[str, Step] = {}
    first_step = ""
    rules: Any = None  # the flow's domain module: STEPS, FIRST_STEP, apply_choice, advance

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.rules is not None:
            cls.steps, cls.first_step = cls.rules.STEPS, cls.rules.FIRST_STEP

    # -- the flow's rules (its domain module) -----------------------------------------------

    def context(self) -> Any:
        return None

    def choose(self, step: Step, value: str, data: Data) -> Updates | Invalid:
        """A pressed button's answer (the domain's apply_choice)."""
        return self.rules.apply_choice(step, value, data, self.context())

    def advance(self, step: str, updates: Updates, data: Data) -> tuple[str | None, Data]:
        """Merge an accepted answer and name the next step (the domain's advance); None: all
        answered, the flow finishes without a summary card."""
        return self.rules.advance(step, updates, data)

    def missing(self, data: Data) -> tuple[str, Data] | None:
        """Where a draft that lacks an answer goes back to on submit (else None)."""
        return None

    def start_edit(self, group: str, data: Data) -> tuple[str, Data]:
        """The summary card's "change" of one group: its first step."""
        return next(key for key, step in self.steps.items() if step.group == group), data

    async def resolve(self, update: Update, draft: Draft, lookup: Lookup) -> Updates | Invalid:
        """An answer only I/O can give (see Lookup)."""
        raise NotImplementedError

    def poster_place(self, code: str) -> dict[str, Any] | None:
        """A QR poster's place code (``XF01`` a grid, ``xf`` a village) as prefilled answers."""
        found = self.s.config.grid(code.upper())
        if found:
            return {"village": found[0].id, "grid": found[1].id, "prefilled_village": True,
                    "prefilled_grid": True}  # fmt: skip
        village = self.s.config.village(code.lower())
        return {"village": village.id, "prefilled_village": True} if village else None

    # -- texts -----------------------------------------------------------------------------

    def question_text(self, draft: Draft) -> str:
        # a question shows the person what they answered so far: theirs to see in full
        return self.s.text(
            draft.locale, self.module, f"ask_{draft.step}", Audience.ENTITLED, data=draft.data
        )

    def summary_text(self, draft: Draft) -> str:
        return self.s.text(draft.locale, self.module, "summary", Audience.ENTITLED, data=draft.data)

    def label(self, draft: Draft, step: str, value: str) -> str:
        """A button's label: a village's or grid's name, else the template's ``choice``."""
        config = self.s.config
        if step == "village" and (village := config.village(value)):
            return village.name
        if step == "grid" and (found := config.grid(value)):
            return found[1].name
        return self.s.renderer.label(draft.locale, self.module, "choice", step=step, value=value)

    def shown_label(self, draft: Draft, step: str, value: str) -> str:
        """The label as the person sees it on the button (and types it on a reply keyboard)."""
        return plain(self.label(draft, step, value))

    def choice(self, draft: Draft, value: str) -> str | None:
        return self.shown_label(draft, draft.step, value)

    def question(self, draft: Draft) -> tuple[str, Any]:
        step = self.steps[draft.step]
        text = self.summary_text(draft) if draft.step == SUMMARY else self.question_text(draft)
        return text, self.markup(draft, step)

    def markup(self, draft: Draft, step: Step) -> Any:
        values = step.values(draft.data, self.context())
        if step.contact or step.location is not None:  # a reply keyboard: a request, texts
            kind = "request_contact" if step.contact else "request_location"
            name = "share_contact" if step.contact else "send_location"
            request = {"text": plain(self.s.text(draft.locale, self.module, name)), kind: True}
            labels = ([self.shown_label(draft, step.key, v)] for v in values)
            return reply_keyboard([[request], *labels])
        if not values:
            return ReplyKeyboardRemove()
        buttons = [button(self.shown_label(draft, step.key, v), self.button(draft, v))
                   for v in values]  # fmt: skip
        rows = [buttons[i : i + step.per_row] for i in range(0, len(buttons), step.per_row)]
        return inline_markup(rows)

    # -- answers ---------------------------------------------------------------------------

    async def on_message(self, update: Update, draft: Draft) -> Result:
        step = self.steps[draft.step]
        parsed = self.read(step, update.effective_message, draft)
        if isinstance(parsed, Lookup):
            parsed = await self.resolve(update, draft, parsed)
        return self.next(draft, parsed)

    def read(self, step: Step, message: Message, draft: Draft) -> Updates | Invalid | Lookup:
        data, ctx = draft.data, self.context()
        whose = step.whose_contact(data)
        if message.contact and whose is not None and step.text is not None:
            refused = contact_refusal(whose, message.contact.user_id, draft.user_id)
            return refused or step.text(message.contact.phone_number or "", data, ctx)
        if message.photo and step.photo:
            return {step.photo: message.photo[-1].file_id}
        if message.location and step.location is not None:
            return step.location(message.location.latitude, message.location.longitude)
        if message.text is not None and step.location is not None:  # a reply-keyboard choice
            typed = {self.shown_label(draft, step.key, v): v for v in step.values(data, ctx)}
            if message.text.strip() in typed:
                return self.choose(step, typed[message.text.strip()], data)
        if message.text is not None and step.text is not None:
            return step.text(message.text, data, ctx)
        return Invalid(step.expects())

    async def on_button(self, update: Update, draft: Draft, value: str) -> Result:
        if draft.step == SUMMARY:
            return self.on_summary(draft, value)
        step = self.steps[draft.step]
        if draft.step == EDIT:
            if value not in step.values(draft.data, self.context()):
                return Invalid("choice_stale")
            return Next(*self.start_edit(value, draft.data))
        return self.next(draft, self.choose(step, value, draft.data))

    def on_summary(self, draft: Draft, value: str) -> Result:
        if value == "cancel":
            return Cancel()
        if value == EDIT and EDIT in self.steps:
            return Next(EDIT, draft.data)
        if value != "submit":
            return Invalid("choice_stale")
        missing = self.missing(draft.data)
        if missing is not None:
            return Next(*missing, reason=Invalid("incomplete"))
        return Next(None, draft.data)

    def next(self, draft: Draft, updates: Updates | Invalid) -> Next | Invalid:
        if isinstance(updates, Invalid):
            return updates
        return Next(*self.advance(draft.step, updates, draft.data))

    def answered(self, draft: Draft, value: str) -> str | None:
        """The pressed question, left in the chat with the chosen answer instead of buttons.
        The question is rendered HTML already: escaping it again would show its tags."""
        return self.s.text(
            draft.locale, self.module, "answered",
            question=Markup(self.question_text(draft)),
            answer=self.shown_label(draft, draft.step, value),
        )  # fmt: skip

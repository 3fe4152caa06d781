"""Withdrawal management: settings, bedside observations, the medical admission,
medication orders and administrations, safety overrides and the discharge bundle."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from stepwise.care.models import Episode, Program, Stay
from stepwise.core.models import Organization, TenantScoped, TimeStamped
from stepwise.patients.models import Patient
from stepwise.withdrawal.rules import admission, bundle, formulary, schedule, thresholds, vitals
from stepwise.withdrawal.rules.safety import BuprenorphineStart, LastUse


def _range(field: str, low: int, high: int) -> models.Q:
    return models.Q(**{f"{field}__gte": low, f"{field}__lte": high})


class SafetySettings(TimeStamped):
    """The organization's choices for the safety rules, inside the published ranges."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="safety_settings"
    )
    bup_cows_threshold = models.PositiveSmallIntegerField(default=8)
    bup_hours_short_acting = models.PositiveSmallIntegerField(default=12)
    bup_hours_extended_release = models.PositiveSmallIntegerField(default=24)
    bup_hours_methadone = models.PositiveSmallIntegerField(default=36)
    methadone_first_day_cap_mg = models.PositiveSmallIntegerField(default=50)
    naltrexone_opioid_free_days = models.PositiveSmallIntegerField(default=7)
    naltrexone_after_agonist_days = models.PositiveSmallIntegerField(default=14)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=_range(s.name, s.low, s.high), name=f"safety_{s.name}_range"
            )
            for s in thresholds.SETTINGS
        ]

    def thresholds(self) -> thresholds.SafetyThresholds:
        return thresholds.SafetyThresholds(
            **{s.name: getattr(self, s.name) for s in thresholds.SETTINGS}
        )


class UnitSettings(TimeStamped):
    """A withdrawal-management program's reassessment rhythm."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="unit_settings")
    reassess_hours = models.PositiveSmallIntegerField(default=4)
    induction_reassess_hours = models.PositiveSmallIntegerField(default=1)
    prn_followup_minutes = models.PositiveSmallIntegerField(default=60)
    # Whether physicians of the unit are offered Stepwise's default comfort set
    # beside the program's own order sets.
    offer_default_comfort_set = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=_range(s.name, s.low, s.high), name=f"unit_{s.name}_range"
            )
            for s in thresholds.UNIT_SETTINGS
        ]

    def schedule(self) -> thresholds.UnitSchedule:
        return thresholds.UnitSchedule(
            reassess_hours=self.reassess_hours,
            induction_reassess_hours=self.induction_reassess_hours,
            prn_followup_minutes=self.prn_followup_minutes,
        )


class RecordStatus(models.TextChoices):
    FINAL = "final", "Final"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class ClinicalRecord(TenantScoped):
    """A bedside record of one patient in one stay, kept even when it was a mistake."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=RecordStatus.choices, default=RecordStatus.FINAL
    )
    error_reason = models.TextField(blank=True)

    class Meta:
        abstract = True


class VitalSigns(ClinicalRecord):
    observed_at = models.DateTimeField()
    observed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    pulse = models.PositiveSmallIntegerField(null=True, blank=True)
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2 = models.PositiveSmallIntegerField("SpO2", null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    responsiveness = models.CharField(
        max_length=14,
        blank=True,
        choices=[(r.value, vitals.RESPONSIVENESS_LABELS[r]) for r in vitals.Responsiveness],
    )
    # The over-sedation signs found when recorded (empty when none).
    sedation_signs = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["stay_id", "observed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RecordStatus.values), name="vitals_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(responsiveness="")
                | models.Q(responsiveness__in=[r.value for r in vitals.Responsiveness]),
                name="vitals_responsiveness_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "stay", "observed_at"], name="vitals_stay_idx")
        ]

    def as_rule_input(self) -> vitals.Vitals:
        return vitals.Vitals(
            pulse=self.pulse,
            systolic=self.systolic,
            diastolic=self.diastolic,
            respiratory_rate=self.respiratory_rate,
            spo2=self.spo2,
            temperature_c=self.temperature_c,
            responsiveness=vitals.Responsiveness(self.responsiveness)
            if self.responsiveness
            else None,
        )

    @property
    def blood_pressure(self) -> str:
        if self.systolic is None:
            return ""
        return f"{self.systolic}/{self.diastolic}"


class OrderStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    STOPPED = "stopped", "Stopped"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class MedicationOrder(TenantScoped):
    """A physician's order. Doses come from its frequency (and taper) in the
    facility's local time, or as needed for its indication."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="+")
    drug = models.CharField(max_length=30, choices=formulary.drug_choices())
    dose_mg = models.DecimalField(max_digits=8, decimal_places=3)
    route = models.CharField(
        max_length=20, choices=[(r.value, formulary.ROUTE_LABELS[r]) for r in formulary.Route]
    )
    frequency = models.CharField(
        max_length=12, choices=[(f.code, f.label) for f in schedule.FREQUENCIES]
    )
    prn_indication = models.CharField(max_length=200, blank=True)
    max_daily_mg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    # [{"days": 2, "dose_mg": "0.1"}, ...]: the dose changes by day from the start.
    taper = models.JSONField(default=list, blank=True)
    bup_start = models.CharField(
        "buprenorphine induction",
        max_length=14,
        blank=True,
        choices=[(s.value, s.value) for s in BuprenorphineStart],
    )
    rationale = models.TextField(blank=True)
    instructions = models.TextField(blank=True)
    order_set = models.CharField(max_length=100, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.ACTIVE
    )
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stop_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(drug__in=list(formulary.DRUGS_BY_CODE)), name="order_drug_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=list(schedule.FREQUENCIES_BY_CODE)),
                name="order_frequency_valid",
            ),
            models.CheckConstraint(condition=models.Q(dose_mg__gt=0), name="order_dose_positive"),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="order_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "stay", "status"], name="order_stay_idx"),
            models.Index(fields=["organization", "episode", "drug"], name="order_episode_drug_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.drug_name} {self.dose_mg.normalize():f} mg {self.route} {self.frequency}"

    @property
    def drug_info(self) -> formulary.Drug:
        return formulary.drug(self.drug)

    @property
    def drug_name(self) -> str:
        return self.drug_info.name

    @property
    def frequency_info(self) -> schedule.Frequency:
        return schedule.frequency(self.frequency)

    @property
    def is_prn(self) -> bool:
        return self.frequency_info.is_prn

    @property
    def taper_steps(self) -> list[schedule.TaperStep]:
        return [
            schedule.TaperStep(int(s["days"]), Decimal(str(s["dose_mg"])), s.get("frequency", ""))
            for s in self.taper
        ]

    @property
    def dose_display(self) -> str:
        return f"{self.dose_mg.normalize():f} mg"


class SafetyOverride(TenantScoped):
    """A physician's decision to go ahead against a safety rule, with the data the
    rule saw when it was made. It covers its order for that rule."""

    order = models.ForeignKey(MedicationOrder, on_delete=models.PROTECT, related_name="overrides")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=10)
    reason = models.TextField()
    saw = models.JSONField(default=list)
    needs = models.JSONField(default=list)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    overridden_at = models.DateTimeField()

    class Meta:
        ordering = ["overridden_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rule__in=["R-BUP-1", "R-MTD-1", "R-NTX-1"]),
                name="override_rule_valid",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="override_has_reason"),
        ]


class AdministrationOutcome(models.TextChoices):
    GIVEN = "given", "Given"
    HELD = "held", "Held"
    REFUSED = "refused", "Refused"


class FollowupResult(models.TextChoices):
    EFFECTIVE = "effective", "Effective"
    PARTLY = "partly", "Partly effective"
    NOT_EFFECTIVE = "not_effective", "Not effective"


class Administration(TenantScoped):
    """One dose charted by a nurse: given, held or refused with a reason."""

    order = models.ForeignKey(
        MedicationOrder, on_delete=models.PROTECT, related_name="administrations"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="+")
    # The scheduled time this dose answers; empty for an as-needed dose.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=AdministrationOutcome.choices)
    reason = models.TextField(blank=True)
    dose_mg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The rule checks this dose passed, as shown to the nurse ("R-BUP-1": [...]).
    safety = models.JSONField(default=dict, blank=True)
    override = models.ForeignKey(
        SafetyOverride, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=RecordStatus.choices, default=RecordStatus.FINAL
    )
    error_reason = models.TextField(blank=True)
    followup_due_at = models.DateTimeField(null=True, blank=True)
    followup_at = models.DateTimeField(null=True, blank=True)
    followup_result = models.CharField(max_length=14, blank=True, choices=FollowupResult.choices)
    followup_note = models.TextField(blank=True)
    followup_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outcome__in=AdministrationOutcome.values),
                name="admin_outcome_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="given", dose_mg__gt=0)
                | (~models.Q(outcome="given") & ~models.Q(reason="")),
                name="admin_given_has_dose_else_reason",
            ),
            # A scheduled dose is charted once (a mistake is marked, then charted again).
            models.UniqueConstraint(
                fields=["order", "scheduled_for"],
                condition=models.Q(scheduled_for__isnull=False, status="final"),
                name="admin_one_per_scheduled_dose",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "stay", "at"], name="admin_stay_idx"),
            models.Index(
                fields=["organization", "followup_due_at"],
                condition=models.Q(followup_due_at__isnull=False, followup_at__isnull=True),
                name="admin_followup_open_idx",
            ),
        ]


class ChallengeResult(models.TextChoices):
    NEGATIVE = "negative", "Negative (no withdrawal signs)"
    POSITIVE = "positive", "Positive (withdrawal signs)"


class NaloxoneChallenge(ClinicalRecord):
    performed_at = models.DateTimeField()
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(max_length=10, choices=ChallengeResult.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["performed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(result__in=ChallengeResult.values), name="challenge_result_valid"
            )
        ]


class BundleItem(TenantScoped):
    """One item of the safe-discharge bundle of a withdrawal-management stay."""

    stay = models.ForeignKey(Stay, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    item = models.CharField(
        max_length=20, choices=[(i.value, bundle.ITEM_LABELS[i]) for i in bundle.Item]
    )
    state = models.CharField(
        max_length=10, choices=[(s.value, s.value.capitalize()) for s in bundle.State]
    )
    reason = models.TextField(blank=True)
    moud_answer = models.CharField(
        max_length=10,
        blank=True,
        choices=[(a.value, a.value.capitalize()) for a in bundle.MoudAnswer],
    )
    appointment_at = models.DateTimeField(null=True, blank=True)
    appointment_with = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["stay_id", "item"]
        constraints = [
            models.UniqueConstraint(fields=["stay", "item"], name="bundle_one_per_item"),
            models.CheckConstraint(
                condition=models.Q(item__in=[i.value for i in bundle.Item]),
                name="bundle_item_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=[s.value for s in bundle.State]),
                name="bundle_state_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="declined") | ~models.Q(reason=""),
                name="bundle_declined_has_reason",
            ),
        ]

    def as_rule_input(self) -> bundle.ItemRecord:
        return bundle.ItemRecord(
            item=bundle.Item(self.item),
            state=bundle.State(self.state),
            reason=self.reason,
            moud_answer=bundle.MoudAnswer(self.moud_answer) if self.moud_answer else None,
            appointment_at=self.appointment_at,
            appointment_with=self.appointment_with,
        )


class BundleClosure(TenantScoped):
    """How a withdrawal-management stay was left: the bundle's state at that moment."""

    stay = models.OneToOneField(Stay, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    left_at = models.DateTimeField()
    policy = models.CharField(max_length=12)
    # What was not done when the patient left (only under the record-only policy).
    gaps = models.JSONField(default=list, blank=True)
    flag_until = models.DateTimeField(null=True, blank=True)


class MedicalAdmission(ClinicalRecord):
    """The nurse's and physician's assessment on arrival. A later one in the same
    episode replaces it; the latest final one is current."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField()
    # Read by the board and the safety rules without parsing the whole record.
    last_opioid_use_at = models.DateTimeField(null=True, blank=True)
    findings = models.JSONField(default=dict)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [
            models.Index(fields=["organization", "stay", "recorded_at"], name="medadm_stay_idx")
        ]

    def parsed(self) -> admission.MedicalAdmissionData:
        return admission.from_json(self.data)


class LastUseSource(models.TextChoices):
    PATIENT = "patient", "The patient"
    COLLATERAL = "collateral", "Family, friend or other informant"
    RECORDS = "records", "Records (prescriber, pharmacy, referring program)"
    STAFF = "staff", "Seen by staff"


# How a verdict names where a reported time came from ("…; the patient's report").
LAST_USE_SOURCE_SHORT = {
    LastUseSource.PATIENT: "the patient's report",
    LastUseSource.COLLATERAL: "an informant's report",
    LastUseSource.RECORDS: "records",
    LastUseSource.STAFF: "seen by staff",
}


class LastUseReport(ClinicalRecord):
    """A time of last opioid use reported during a stay, outside the medical
    admission: on a return to the unit after a relapse (when the admission belongs to
    an earlier stay), or when the patient tells of use since the admission."""

    substance = models.CharField(
        max_length=20,
        choices=[(s.code, s.label) for s in admission.SUBSTANCES if s.opioid is not None],
    )
    last_use_at = models.DateTimeField()
    source = models.CharField(max_length=12, choices=LastUseSource.choices)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["stay_id", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    substance__in=[s.code for s in admission.SUBSTANCES if s.opioid is not None]
                ),
                name="last_use_substance_opioid",
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=LastUseSource.values), name="last_use_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RecordStatus.values), name="last_use_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "stay", "last_use_at"], name="last_use_stay_idx")
        ]

    def as_rule_input(self) -> LastUse:
        info = admission.SUBSTANCES_BY_CODE[self.substance]
        assert info.opioid is not None
        return LastUse(
            info.opioid,
            self.last_use_at,
            LAST_USE_SOURCE_SHORT[LastUseSource(self.source)],
            info.fentanyl,
        )


class OrderSet(TenantScoped):
    """A withdrawal-management program's named group of orders a physician places in
    one step (comfort and rescue medication; MOUD is ordered on its own so its
    safety check is seen). Orders copy the lines: changing a set changes no order."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="order_sets")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "program",
                condition=models.Q(is_active=True),
                name="order_set_name_unique_active",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OrderSetLine(models.Model):
    order_set = models.ForeignKey(OrderSet, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    drug = models.CharField(max_length=30, choices=formulary.drug_choices())
    dose_mg = models.DecimalField(max_digits=8, decimal_places=3)
    route = models.CharField(
        max_length=20, choices=[(r.value, formulary.ROUTE_LABELS[r]) for r in formulary.Route]
    )
    frequency = models.CharField(
        max_length=12, choices=[(f.code, f.label) for f in schedule.FREQUENCIES]
    )
    prn_indication = models.CharField(max_length=200, blank=True)
    max_daily_mg = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)

    class Meta:
        ordering = ["order_set_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_set", "position"], name="order_set_line_position_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(drug__in=[d.code for d in formulary.ORDER_SET_DRUGS]),
                name="order_set_line_no_moud",
            ),
        ]

    def __str__(self) -> str:
        return f"{formulary.drug(self.drug).name} {self.dose_mg.normalize():f} mg {self.frequency}"

    def as_rule_input(self) -> formulary.OrderSetLine:
        return formulary.OrderSetLine(
            drug=self.drug,
            dose_mg=f"{self.dose_mg.normalize():f}",
            route=formulary.Route(self.route),
            frequency=self.frequency,
            prn_indication=self.prn_indication,
            max_daily_mg=f"{self.max_daily_mg.normalize():f}" if self.max_daily_mg else "",
        )

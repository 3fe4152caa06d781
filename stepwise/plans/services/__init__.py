"""The named writes of the treatment plan. Demo data and other callers use these:

- drafts.plan_start(actor, patient) -> the draft version 1 of the open episode's plan
- drafts.draft_save(actor, version, content, reason=None): the whole contents
- drafts.draft_item_add / draft_item_change / draft_item_remove: one item at a time
- drafts.draft_details_save(actor, version, patient_words=..., reason=None)
- versions.patient_signature_record(actor, version, signature=..., name=, on=, reason=)
- versions.version_sign(actor, version)
- versions.review_start(actor, plan, trigger=..., why=..., source_type=, source_id=)
- settings.plan_settings_save(actor, review_interval_days=..., programs={...})
"""

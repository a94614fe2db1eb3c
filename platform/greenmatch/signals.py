"""Signals other parts of the platform subscribe to (blinker). Receivers run synchronously, inside
the request, before the response is sent — so what they write is visible to the very next request.

``project_approved``   sender: the Project just approved (committed). Matching re-matches it.
``project_withdrawn``  sender: a Project that left the approved library. Matching drops its matches.
``product_changed``    sender: a Product published, edited while published, or withdrawn (committed).
                       Matching re-matches it (or drops its leads when it is no longer published).
``engagement_changed`` sender: an Engagement whose status changed; kwarg ``previous`` (status).
``project_reviewed``   sender: a Project a bureau just approved, returned or rejected (committed);
                       kwargs ``decision`` and ``note``. The inbox tells the enterprise.
``organization_verified`` sender: an institution an admin just verified. The inbox tells it.
"""

from blinker import Namespace

_signals = Namespace()

project_approved = _signals.signal("project-approved")
project_withdrawn = _signals.signal("project-withdrawn")
product_changed = _signals.signal("product-changed")
engagement_changed = _signals.signal("engagement-changed")
project_reviewed = _signals.signal("project-reviewed")
organization_verified = _signals.signal("organization-verified")

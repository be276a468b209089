"""The SLA's definition of each severity, clause by clause (SLA-RULES.md, from the incident
classes of the Eventdrive agreement), and the clause nearest to a ticket's text: what the
ticket page shows beside a suggestion, so that an agent reads which promise it points at."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CLAUSES: dict[str, list[Promise]] = {
    "blocking": [
        _("The product or one of its technical components stops or is unavailable."),
        _("Important features are unavailable."),
        _("An important function produces a wrong result."),
    ],
    "major": [
        _("The product returns wrong data."),
        _("The use of features is impaired (other than design)."),
        _("A functional result is wrong."),
        _("A feature is strongly degraded for the user or an event participant."),
    ],
    "minor": [
        _("Ergonomic, graphic or editorial comfort is degraded."),
        _("A feature works, without being significantly impaired."),
    ],
}
# Words customers use for each clause, in both languages: matched beside the clause itself.
_CUES: dict[str, list[str]] = {
    "blocking": [
        "down stopped crashed offline unreachable black screen nothing loads error 500 "
        "en panne arrêt hors service inaccessible écran noir plus rien ne marche plus",
        "cannot log in nobody can register check-in impossible payments fail "
        "impossible de se connecter personne ne peut inscription bloquée paiement refusé",
        "wrong amount charged wrong person badge corrupted data lost "
        "mauvais montant débité badge d'une autre personne données perdues corrompues",
    ],
    "major": [
        "export report wrong figures missing column duplicates "
        "export rapport chiffres faux colonne manquante doublons",
        "workaround some users cannot filter does not work slow sync "
        "contournement certains utilisateurs filtre ne marche pas lent synchronisation",
        "wrong total wrong status wrong date calculation "
        "total faux statut erroné date fausse calcul",
        "participants did not receive emails very slow timeouts one kiosk "
        "participants n'ont pas reçu mails très lent une borne",
    ],
    "minor": [
        "typo wording label colour color logo alignment font translation tooltip "
        "faute libellé couleur logo alignement police traduction infobulle",
        "suggestion question would be nice improvement cosmetic "
        "suggestion question ce serait bien amélioration esthétique",
    ],
}


@cache
def _clauses() -> tuple[Any, dict[str, Any]]:
    """Each clause in English and French, as character n-grams within words (the languages
    customers write in; accents folded)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts: dict[str, list[str]] = {}
    for severity, clauses in CLAUSES.items():
        for language in ("en", "fr"):
            with translation.override(language):
                texts.setdefault(severity, []).extend(str(c) for c in clauses)
        texts[severity].extend(_CUES[severity])
    vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, strip_accents="unicode"
    )
    vectorizer.fit([t for ts in texts.values() for t in ts])
    return vectorizer, {s: vectorizer.transform(ts) for s, ts in texts.items()}


def nearest_clause(text: str, severity: str) -> Promise:
    """The clause of ``severity``'s definition whose words are nearest the ticket's
    (cosine of their character n-grams, in either language)."""
    vectorizer, matrices = _clauses()
    scores = (matrices[severity] @ vectorizer.transform([text]).T).toarray().ravel()
    clauses = CLAUSES[severity]
    return clauses[int(scores.argmax()) % len(clauses)]

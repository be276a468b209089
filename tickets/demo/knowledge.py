"""What agents and customers read before writing: the FAQ's product areas and articles (in
English and French, areas named in both), canned replies for every desk in English and in
French, and one for the Europe desk."""

from __future__ import annotations

from django.utils.text import slugify

from tickets.models import Article, CannedReply, Desk, ProductArea, User

AREAS = [
    ("installation", "Installation & updates", "Installation et mises à jour", 0),
    ("kiosk-hardware", "Kiosk hardware", "Matériel des bornes", 1),
    ("account", "Accounts & access", "Comptes et accès", 2),
    ("reports", "Reports & exports", "Rapports et exports", 3),
]

ARTICLES = [
    (
        "installation",
        "en",
        "The screen stays blank after an update",
        "blank screen, black screen, update, restart",
        "A kiosk shows a blank screen when the update finished but the display service did "
        "not restart.\n\nOpen the maintenance menu (hold the top-left corner for five seconds),"
        " choose Restart display, and wait one minute. If the screen is still blank, unplug the "
        "kiosk for ten seconds.\n\nStill blank after that? Report a blocking incident with the "
        "kiosk's serial number.",
    ),
    (
        "installation",
        "fr",
        "L'écran reste noir après une mise à jour",
        "écran noir, écran blanc, mise à jour, redémarrer",
        "Une borne affiche un écran noir quand la mise à jour est terminée mais que le service "
        "d'affichage n'a pas redémarré.\n\nOuvrez le menu de maintenance (appui de cinq "
        "secondes en haut à gauche), choisissez Redémarrer l'affichage et patientez une minute."
        "\n\nToujours noir ? Signalez un incident bloquant avec le numéro de série de la borne.",
    ),
    (
        "kiosk-hardware",
        "en",
        "The card reader refuses contactless payments",
        "card reader, contactless, NFC, payment",
        "Contactless payments need the reader's firmware 4.2 or later. The kiosk's About page "
        "shows the version.\n\nIf it is older, the next nightly update installs it; to install "
        "it now, choose Update reader in the maintenance menu.",
    ),
    (
        "account",
        "en",
        "Reset a kiosk administrator's password",
        "password, login, locked, administrator",
        "An organization admin can reset any administrator's password from Settings → Users."
        "\n\nAfter five failed attempts an account is locked for fifteen minutes.",
    ),
    (
        "account",
        "fr",
        "Réinitialiser le mot de passe d'un administrateur",
        "mot de passe, connexion, bloqué, administrateur",
        "Un administrateur de l'organisation peut réinitialiser le mot de passe de tout "
        "administrateur depuis Paramètres → Utilisateurs.\n\nAprès cinq essais manqués, le "
        "compte est bloqué quinze minutes.",
    ),
    (
        "reports",
        "en",
        "An export is missing the last day",
        "export, report, missing day, time zone, CSV",
        "Exports end at midnight in the organization's time zone. A day that is not over yet is "
        "not included.\n\nTo include today, choose Up to now in the export's period.",
    ),
]

CANNED = [
    (
        "Asking for the kiosk's serial number",
        "en",
        "To look into this, could you send us the serial number of the kiosk? It is on the "
        "label under the screen and on the About page.",
    ),
    (
        "Fix deployed: please confirm",
        "en",
        "We deployed a fix a few minutes ago. Could you confirm that everything works again on "
        "your side? Without news from you we will close this ticket in five business days.",
    ),
    (
        "Demander le numéro de série de la borne",
        "fr",
        "Pour avancer, pourriez-vous nous envoyer le numéro de série de la borne ? Il figure "
        "sur l’étiquette sous l’écran et sur la page « À propos ».",
    ),
    (
        "Correctif déployé : merci de confirmer",
        "fr",
        "Nous avons déployé un correctif il y a quelques minutes. Pouvez-vous confirmer que "
        "tout fonctionne de nouveau chez vous ? Sans nouvelles de votre part, nous fermerons "
        "ce ticket dans cinq jours ouvrés.",
    ),
]


def knowledge_seed(*, anna: User, europe: Desk) -> None:
    """FAQ areas and articles (English and French) and two canned replies, once."""
    areas = {
        slug: ProductArea.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_fr": name_fr, "position": position}
        )[0]
        for slug, name, name_fr, position in AREAS
    }
    for area, language, title, keywords, body in ARTICLES:
        Article.objects.get_or_create(
            slug=slugify(title),
            defaults={
                "area": areas[area],
                "language": language,
                "title": title,
                "keywords": keywords,
                "body": body,
                "author": anna,
            },
        )
    for title, language, body in CANNED:
        CannedReply.objects.get_or_create(
            title=title,
            defaults={"body": body, "language": language, "desk": None, "created_by": anna},
        )
    if not CannedReply.objects.filter(desk=europe).exists():
        CannedReply.objects.create(
            title="Europe desk: outside support hours",
            body="Our Europe desk is open Monday to Thursday 9:00–17:00 and Friday 9:00–16:00 "
            "(Berlin time). We will continue first thing when it opens.",
            desk=europe,
            language="en",
            created_by=anna,
        )

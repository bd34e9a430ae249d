"""Texts of alerts on every page, their addressees, the acknowledgements grid and reminders, and the
second factor's lock-out: (fr, es, pt, ru, ar)."""

TRANSLATIONS: dict[str, tuple[str, str, str, str, str]] = {
    # alerts on every page (alerts.js)
    "To acknowledge": (
        "À confirmer",
        "Por confirmar",
        "Por confirmar",
        "Требуют подтверждения",
        "بانتظار الإقرار",
    ),
    "Open in Rooms": (
        "Ouvrir dans les salons",
        "Abrir en las salas",
        "Abrir nas salas",
        "Открыть в комнатах",
        "فتح في الغرف",
    ),
    "Notify me on this device when the page is in the background": (
        "M'avertir sur cet appareil quand la page est en arrière-plan",
        "Avisarme en este dispositivo cuando la página esté en segundo plano",
        "Avisar-me neste dispositivo quando a página estiver em segundo plano",
        "Уведомлять на этом устройстве, когда страница в фоне",
        "أعلمني على هذا الجهاز عندما تكون الصفحة في الخلفية",
    ),
    "{count} to acknowledge": (
        "{count} à confirmer",
        "{count} por confirmar",
        "{count} por confirmar",
        "Требуют подтверждения: {count}",
        "{count} بانتظار الإقرار",
    ),
    "Reminder of #{seq}": (
        "Rappel du n° {seq}",
        "Recordatorio del n.º {seq}",
        "Lembrete do n.º {seq}",
        "Напоминание о №{seq}",
        "تذكير بالرسالة رقم {seq}",
    ),
    "Reminder": ("Rappel", "Recordatorio", "Lembrete", "Напоминание", "تذكير"),
    "{count} member(s) who had not acknowledged": (
        "{count} membre(s) qui n'avaient pas confirmé",
        "{count} miembro(s) que no habían confirmado",
        "{count} membro(s) que não tinham confirmado",
        "Участники, не подтвердившие: {count}",
        "{count} من الأعضاء لم يقرّوا بالاستلام",
    ),
    # addressing a warning or an alert (the room's form)
    "Addressed to (nothing ticked: everyone in the room)": (
        "Destinataires (rien de coché : tout le salon)",
        "Destinatarios (nada marcado: toda la sala)",
        "Destinatários (nada assinalado: toda a sala)",
        "Кому (ничего не отмечено: всем в комнате)",
        "موجّه إلى (لا شيء محدد: كل من في الغرفة)",
    ),
    "Members at the ticked entry points or of the ticked administrations; only the ticked roles, if any.": (
        "Les membres aux points d'entrée ou des administrations cochés ; seulement les rôles cochés, s'il y en a.",
        "Los miembros de los puntos de entrada o de las administraciones marcados; solo los roles marcados, si los hay.",
        "Os membros nos pontos de entrada ou das administrações assinalados; só as funções assinaladas, se houver.",
        "Участники в отмеченных пунктах пропуска или из отмеченных администраций; только отмеченные роли, если они есть.",
        "الأعضاء في نقاط الدخول أو الإدارات المحددة؛ والأدوار المحددة فقط، إن وُجدت.",
    ),
    "Entry points": (
        "Points d'entrée",
        "Puntos de entrada",
        "Pontos de entrada",
        "Пункты пропуска",
        "نقاط الدخول",
    ),
    "Administrations": ("Administrations", "Administraciones", "Administrações", "Администрации", "الإدارات"),
    "Roles": ("Rôles", "Funciones", "Funções", "Роли", "الأدوار"),
    # the acknowledgements page
    "At a glance": ("En un coup d'œil", "De un vistazo", "Num relance", "Коротко", "نظرة سريعة"),
    "Not yet acknowledged: %(missing)s": (
        "Pas encore confirmé : %(missing)s",
        "Aún sin confirmar: %(missing)s",
        "Ainda por confirmar: %(missing)s",
        "Ещё не подтвердили: %(missing)s",
        "لم يُقَرّ بعد: %(missing)s",
    ),
    "The grid shows the twelve newest; every one is listed below.": (
        "La grille montre les douze plus récents ; tous sont listés plus bas.",
        "La cuadrícula muestra los doce más recientes; todos se listan abajo.",
        "A grelha mostra os doze mais recentes; todos estão listados abaixo.",
        "В таблице — двенадцать последних; все перечислены ниже.",
        "يعرض الجدول أحدث اثني عشر؛ وجميعها مدرجة أدناه.",
    ),
    "reminders: %(n)s, the last at %(at)s UTC": (
        "rappels : %(n)s, le dernier à %(at)s UTC",
        "recordatorios: %(n)s, el último a las %(at)s UTC",
        "lembretes: %(n)s, o último às %(at)s UTC",
        "напоминаний: %(n)s, последнее в %(at)s UTC",
        "التذكيرات: %(n)s، آخرها في %(at)s UTC",
    ),
    "Remind those who have not acknowledged (%(n)s)": (
        "Relancer ceux qui n'ont pas confirmé (%(n)s)",
        "Recordar a quienes no han confirmado (%(n)s)",
        "Lembrar quem ainda não confirmou (%(n)s)",
        "Напомнить тем, кто не подтвердил (%(n)s)",
        "تذكير من لم يقرّوا بعد (%(n)s)",
    ),
    "Reminder sent for #%(ref)s to those who had not acknowledged.": (
        "Rappel du n° %(ref)s envoyé à ceux qui n'avaient pas confirmé.",
        "Recordatorio del n.º %(ref)s enviado a quienes no habían confirmado.",
        "Lembrete do n.º %(ref)s enviado a quem não tinha confirmado.",
        "Напоминание о №%(ref)s отправлено тем, кто не подтвердил.",
        "أُرسل التذكير بالرسالة رقم %(ref)s إلى من لم يقرّوا بعد.",
    ),
    "Who has acknowledged": (
        "Qui a confirmé",
        "Quién ha confirmado",
        "Quem confirmou",
        "Кто подтвердил",
        "من أقرّ بالاستلام",
    ),
    "The form was not complete; try again.": (
        "Le formulaire était incomplet ; réessayez.",
        "El formulario estaba incompleto; inténtelo de nuevo.",
        "O formulário estava incompleto; tente de novo.",
        "Форма была неполной; попробуйте ещё раз.",
        "كان النموذج غير مكتمل؛ حاول مرة أخرى.",
    ),
    # the second factor's lock-out
    "Too many wrong codes: this account is locked for %(minutes)s min.": (
        "Trop de codes erronés : ce compte est verrouillé pendant %(minutes)s min.",
        "Demasiados códigos erróneos: esta cuenta está bloqueada durante %(minutes)s min.",
        "Demasiados códigos errados: esta conta está bloqueada durante %(minutes)s min.",
        "Слишком много неверных кодов: учётная запись заблокирована на %(minutes)s мин.",
        "رموز خاطئة كثيرة: هذا الحساب مقفل لمدة %(minutes)s دقيقة.",
    ),
}

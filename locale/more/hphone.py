"""Texts of the officer's phone: the top bar's menu and the results list's cards: (fr, es, pt, ru, ar)."""

TRANSLATIONS: dict[str, tuple[str, str, str, str, str]] = {
    "Menu": ("Menu", "Menú", "Menu", "Меню", "القائمة"),
    "Main": ("Principal", "Principal", "Principal", "Главное", "الرئيسية"),
    "Sent": ("Envoyé", "Enviado", "Enviado", "Отправлено", "الإرسال"),
    "on the hub": ("sur le hub", "en el hub", "no hub", "в хабе", "في المنصة"),
}

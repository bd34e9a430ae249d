"""Texts of the officer's phone: the top bar's menu, the results list's cards, the room with no network, and
the words for a wrong client ID: (fr, es, pt, ru, ar)."""

TRANSLATIONS: dict[str, tuple[str, str, str, str, str]] = {
    "Menu": ("Menu", "Menú", "Menu", "Меню", "القائمة"),
    "Main": ("Principal", "Principal", "Principal", "Главное", "الرئيسية"),
    "Sent": ("Envoyé", "Enviado", "Enviado", "Отправлено", "الإرسال"),
    "on the hub": ("sur le hub", "en el hub", "no hub", "в хабе", "في المنصة"),
    # a wrong client ID (the API's 422, a socket's error frame)
    "client_id must be a UUID, e.g. 7d9f1c2e-4b6a-4c8d-9e0f-1a2b3c4d5e6f.": (
        "client_id doit être un UUID, par exemple 7d9f1c2e-4b6a-4c8d-9e0f-1a2b3c4d5e6f.",
        "client_id debe ser un UUID, por ejemplo 7d9f1c2e-4b6a-4c8d-9e0f-1a2b3c4d5e6f.",
        "client_id deve ser um UUID, por exemplo 7d9f1c2e-4b6a-4c8d-9e0f-1a2b3c4d5e6f.",
        "client_id должен быть UUID, например 7d9f1c2e-4b6a-4c8d-9e0f-1a2b3c4d5e6f.",
        "يجب أن يكون client_id معرّفًا UUID، مثل 7d9f1c2e-4b6a-4c8d-9e0f-1a2b3c4d5e6f.",
    ),
    # the room page with no network
    "Offline": ("Hors ligne", "Sin conexión", "Sem ligação", "Нет сети", "غير متصل"),
    "this room's messages are not kept on this device, for security; they show again when the network is back.": (
        "les messages de ce salon ne sont pas gardés sur cet appareil, par sécurité ; ils réapparaissent au retour du réseau.",
        "los mensajes de esta sala no se guardan en este dispositivo, por seguridad; vuelven a verse cuando vuelva la red.",
        "as mensagens desta sala não são guardadas neste dispositivo, por segurança; voltam a aparecer quando a rede voltar.",
        "сообщения этой комнаты не хранятся на этом устройстве из соображений безопасности; они появятся снова, когда вернётся сеть.",
        "لا تُحفظ رسائل هذه الغرفة على هذا الجهاز حفاظًا على الأمان؛ وتظهر مجددًا عند عودة الشبكة.",
    ),
    "Your messages waiting to be sent: {n}": (
        "Vos messages en attente d'envoi : {n}",
        "Sus mensajes pendientes de envío: {n}",
        "As suas mensagens à espera de envio: {n}",
        "Ваши сообщения, ожидающие отправки: {n}",
        "رسائلك التي تنتظر الإرسال: {n}",
    ),
}

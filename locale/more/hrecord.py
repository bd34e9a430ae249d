"""Texts of one seizure, one record (issue 10): the post form's handling codes: (fr, es, pt, ru, ar)."""

TRANSLATIONS: dict[str, tuple[str, str, str, str, str]] = {
    "Who may see this result: H0 may leave the operation (the CEN export, the public report's notable seizures); H1, the operation's participants; H2, the coordinators and your administration; H3, your administration only.": (
        "Qui peut voir ce résultat : H0 peut sortir de l'opération (l'export CEN, les saisies notables du rapport public) ; H1, les participants de l'opération ; H2, les coordinateurs et votre administration ; H3, votre administration seulement.",
        "Quién puede ver este resultado: H0 puede salir de la operación (la exportación CEN, las incautaciones destacadas del informe público); H1, los participantes de la operación; H2, los coordinadores y su administración; H3, solo su administración.",
        "Quem pode ver este resultado: H0 pode sair da operação (a exportação CEN, as apreensões notáveis do relatório público); H1, os participantes da operação; H2, os coordenadores e a sua administração; H3, apenas a sua administração.",
        "Кто может видеть этот результат: H0 может выходить за пределы операции (экспорт CEN, заметные изъятия публичного отчёта); H1 — участники операции; H2 — координаторы и ваша администрация; H3 — только ваша администрация.",
        "من يمكنه رؤية هذه النتيجة: H0 يمكن أن تخرج من العملية (تصدير CEN، والمضبوطات البارزة في التقرير العام)؛ H1 المشاركون في العملية؛ H2 المنسقون وإدارتك؛ H3 إدارتك فقط.",
    ),
}

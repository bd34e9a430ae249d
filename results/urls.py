from django.urls import path

from results import views

app_name = "results"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.post_form, name="new"),
    path("board/", views.board, name="board"),
    path("categories/", views.categories, name="categories"),
    path("<str:result_uuid>/", views.detail, name="detail"),
    path("<str:result_uuid>/correct/", views.correct_form, name="correct"),
]

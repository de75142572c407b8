from django import forms

from .models import Item


class ItemForm(forms.ModelForm[Item]):
    class Meta:
        model = Item
        fields = ["name", "description", "price_cents", "quantity"]

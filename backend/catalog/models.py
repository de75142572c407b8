from django.core.validators import MinValueValidator
from django.db import models


class Item(models.Model):
    """A thing for sale: a unique name, a price and a stock count."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    price_cents = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    quantity = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

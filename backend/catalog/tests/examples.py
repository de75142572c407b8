"""An item the API accepts, which tests vary one field at a time."""

VALID = {"name": "Lamp", "description": "A desk lamp", "price_cents": 2500, "quantity": 3}

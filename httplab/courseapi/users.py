"""REST resources: users (paginated, with ETags) and their orders."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

from aiohttp import web

from .errors import ApiError
from .inputs import email, parse_id, positive_int, query_int, read_json_object, text, validate

FIRST_NAMES = ["Ada", "Alan", "Barbara", "Edsger", "Grace", "Guido", "Katherine"]
SEED_USER_COUNT = 42
SEED_ORDERS = [(1, "keyboard", 1), (1, "mouse", 2), (2, "monitor", 1), (5, "usb cable", 3)]

USER_CHECKS = {"name": text(100), "email": email}
ORDER_CHECKS = {"item": text(100), "quantity": positive_int}

routes = web.RouteTableDef()


@dataclass
class User:
    id: int
    name: str
    email: str


@dataclass
class Order:
    id: int
    user_id: int
    item: str
    quantity: int


class UserStore:
    """All users and orders, in id order."""

    users: dict[int, User]
    orders: dict[int, Order]

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Go back to the seed data: 42 users and a few orders."""
        self.users, self.orders = {}, {}
        self._next_user_id = self._next_order_id = 1
        for number in range(1, SEED_USER_COUNT + 1):
            first = FIRST_NAMES[(number - 1) % len(FIRST_NAMES)]
            self.add_user(f"{first} {number}", f"{first.lower()}{number}@example.com")
        for user_id, item, quantity in SEED_ORDERS:
            self.add_order(user_id, item, quantity)

    def add_user(self, name: str, email: str) -> User:
        user = User(self._next_user_id, name, email)
        self.users[user.id] = user
        self._next_user_id += 1
        return user

    def add_order(self, user_id: int, item: str, quantity: int) -> Order:
        order = Order(self._next_order_id, user_id, item, quantity)
        self.orders[order.id] = order
        self._next_order_id += 1
        return order

    def delete_user(self, user_id: int) -> None:
        """Delete a user together with their orders."""
        del self.users[user_id]
        self.orders = {oid: o for oid, o in self.orders.items() if o.user_id != user_id}

    def check_email_free(self, email: str, owner_id: int | None = None) -> None:
        """Raise 409 if another user (not `owner_id`) already has this e-mail address."""
        for user in self.users.values():
            if user.email.lower() == email.lower() and user.id != owner_id:
                raise ApiError(409, f"the email {email!r} is already used by user {user.id}")


USERS = web.AppKey("users", UserStore)


def _find_user(request: web.Request) -> User:
    """The user named by {id} in the path; 404 if there is none."""
    raw_id = request.match_info["id"]
    user = request.app[USERS].users.get(parse_id(raw_id))
    if user is None:
        raise ApiError(404, f"there is no user with id {raw_id!r}")
    return user


def _etag(user: User) -> str:
    """A strong entity tag: a hash of the user's JSON, so it changes whenever the user does."""
    encoded = json.dumps(asdict(user), sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def _user_response(user: User, status: int = 200) -> web.Response:
    response = web.json_response(asdict(user), status=status)
    response.etag = _etag(user)
    return response


def _allow_response(request: web.Request) -> web.Response:
    """Answer OPTIONS: 204 with an Allow header listing every method of this path.

    The routes of one path are declared next to each other, so aiohttp groups them into one
    resource; its routes are the methods (the same list aiohttp puts in a 405's Allow header).
    """
    methods = ", ".join(sorted({route.method for route in request.match_info.route.resource}))
    return web.Response(status=204, headers={"Allow": methods})


@routes.get("/api/users")
async def list_users(request: web.Request) -> web.Response:
    """One page of users, with a Link header pointing to the first/prev/next/last pages."""
    page = query_int(request, "page", 1, minimum=1)
    per_page = query_int(request, "per_page", 20, minimum=1, maximum=100)
    users = list(request.app[USERS].users.values())
    start = (page - 1) * per_page
    data = [asdict(user) for user in users[start : start + per_page]]

    last = max(1, math.ceil(len(users) / per_page))
    pages = {"first": 1, "prev": min(page - 1, last), "next": page + 1, "last": last}
    if page == 1:
        del pages["prev"]
    if page >= last:
        del pages["next"]
    try:  # the links are absolute, so they are built from the Host header
        links = ", ".join(
            f'<{request.url.update_query(page=number, per_page=per_page)}>; rel="{rel}"'
            for rel, number in pages.items()
        )
    except ValueError:
        raise ApiError(400, "the Host header is not a valid host[:port]") from None
    body = {"data": data, "page": page, "per_page": per_page, "total": len(users)}
    return web.json_response(body, headers={"Link": links})


@routes.post("/api/users")
async def create_user(request: web.Request) -> web.Response:
    """Create a user from {"name", "email"}; 201 with a Location header."""
    fields = validate(await read_json_object(request), USER_CHECKS)
    store = request.app[USERS]
    store.check_email_free(fields["email"])
    user = store.add_user(fields["name"], fields["email"])
    response = _user_response(user, status=201)
    response.headers["Location"] = f"/api/users/{user.id}"
    return response


@routes.route("OPTIONS", "/api/users")
async def users_options(request: web.Request) -> web.Response:
    """The methods allowed on the collection."""
    return _allow_response(request)


@routes.get("/api/users/{id}")
async def get_user(request: web.Request) -> web.Response:
    """One user with an ETag; 304 and no body if If-None-Match already names that ETag."""
    user = _find_user(request)
    etag = _etag(user)
    if any(tag.value in (etag, "*") for tag in request.if_none_match or ()):
        response = web.Response(status=304)
        response.etag = etag
        return response
    return _user_response(user)


@routes.put("/api/users/{id}")
async def replace_user(request: web.Request) -> web.Response:
    """Replace a user: both "name" and "email" are required."""
    user = _find_user(request)
    fields = validate(await read_json_object(request), USER_CHECKS)
    request.app[USERS].check_email_free(fields["email"], owner_id=user.id)
    user.name, user.email = fields["name"], fields["email"]
    return _user_response(user)


@routes.patch("/api/users/{id}")
async def update_user(request: web.Request) -> web.Response:
    """Change some fields of a user; fields that are left out keep their value."""
    user = _find_user(request)
    fields = validate(await read_json_object(request), USER_CHECKS, partial=True)
    if "email" in fields:
        request.app[USERS].check_email_free(fields["email"], owner_id=user.id)
    for name, value in fields.items():
        setattr(user, name, value)
    return _user_response(user)


@routes.delete("/api/users/{id}")
async def delete_user(request: web.Request) -> web.Response:
    """Delete a user and their orders: 204, then 404 for the next DELETE."""
    request.app[USERS].delete_user(_find_user(request).id)
    return web.Response(status=204)


@routes.route("OPTIONS", "/api/users/{id}")
async def user_options(request: web.Request) -> web.Response:
    """The methods allowed on one user."""
    return _allow_response(request)


@routes.get("/api/users/{id}/orders")
async def list_orders(request: web.Request) -> web.Response:
    """All orders of one user."""
    user = _find_user(request)
    orders = request.app[USERS].orders.values()
    return web.json_response({"data": [asdict(o) for o in orders if o.user_id == user.id]})


@routes.post("/api/users/{id}/orders")
async def create_order(request: web.Request) -> web.Response:
    """Create an order from {"item", "quantity"}; 201 with a Location header."""
    user = _find_user(request)
    fields = validate(await read_json_object(request), ORDER_CHECKS)
    order = request.app[USERS].add_order(user.id, fields["item"], fields["quantity"])
    headers = {"Location": f"/api/orders/{order.id}"}
    return web.json_response(asdict(order), status=201, headers=headers)


@routes.get("/api/orders/{oid}")
async def get_order(request: web.Request) -> web.Response:
    """One order."""
    raw_id = request.match_info["oid"]
    order = request.app[USERS].orders.get(parse_id(raw_id))
    if order is None:
        raise ApiError(404, f"there is no order with id {raw_id!r}")
    return web.json_response(asdict(order))

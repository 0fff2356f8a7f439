"""Address guard: never fetch from loopback, private, link-local or other non-public addresses."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface.declarations import implementer

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_SCHEMES = frozenset({"http", "https"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def address_category(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_category(embedded)
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("cgnat", isinstance(address, ipaddress.IPv4Address) and address in _CGNAT),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-global", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def parse_ip(host: str) -> IPAddress | None:
    """The IP address `host` spells literally (brackets allowed), or None for a host name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which URLs and resolved addresses may be fetched; Scrapy-free so it can be reused."""

    enabled: bool = True
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> AddressPolicy:
        """Read NEWS_ALLOW_PRIVATE_ADDRESSES and NEWS_ALLOWED_PRIVATE_HOSTS."""
        hosts: Iterable[str] = settings.getlist("NEWS_ALLOWED_PRIVATE_HOSTS")
        return cls(
            enabled=not settings.getbool("NEWS_ALLOW_PRIVATE_ADDRESSES"),
            allowed_hosts=frozenset(h.strip("[]").lower() for h in hosts),
        )

    def host_exempt(self, host: str) -> bool:
        """True when the guard is off or `host` is explicitly allowed."""
        return not self.enabled or host.strip("[]").lower() in self.allowed_hosts

    def refuse_url(self, url: str) -> str | None:
        """Reason to refuse `url` before any DNS lookup (scheme, IP literal), or None."""
        if not self.enabled:
            return None
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            return f"scheme {scheme or '(none)'!r} is not fetched"
        host = parts.hostname or ""
        if not host:
            return "URL has no host"
        address = parse_ip(host)
        if address is None or self.host_exempt(host):
            return None
        category = address_category(address)
        return None if category is None else f"{host} is a {category} address"

    def refuse_address(self, host: str, resolved: str) -> str | None:
        """Reason to refuse connecting to `host` at the resolved address, or None."""
        if self.host_exempt(host):
            return None
        address = parse_ip(resolved)
        if address is None:
            return f"{host} resolved to {resolved!r}, which is not an IP address"
        category = address_category(address)
        return None if category is None else f"{host} resolves to {resolved} ({category})"


class AddressRefused(IgnoreRequest):
    """A request the address guard refused; the message starts with "address:"."""

    outcome = "address_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(f"address: {reason}")
        self.reason = reason


class BlockedAddressError(DNSLookupError):
    """Raised by GuardedResolver instead of returning a non-public address."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"address: {reason}")
        self.reason = reason


@implementer(IResolverSimple)
class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that refuses non-public addresses (also from its cache)."""

    def __init__(
        self,
        reactor: ReactorBase,
        cache_size: int,
        timeout: float,
        policy: AddressPolicy | None = None,
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.policy = policy or AddressPolicy()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> Self:
        # Built once per process (crawler may be the CrawlerProcess): process-level settings.
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(
            reactor,
            cache_size,
            settings.getfloat("DNS_TIMEOUT"),
            AddressPolicy.from_settings(settings),
        )

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        d = super().getHostByName(name, timeout)
        if self.policy.enabled:
            d.addCallback(self._refuse_blocked, name)
        return d

    def _refuse_blocked(self, address: str, name: str) -> str:
        reason = self.policy.refuse_address(name, address)
        if reason is not None:
            raise BlockedAddressError(reason)
        return address


Resolve = Callable[[str], Awaitable[str]]


async def reactor_resolve(host: str) -> str:
    """Resolve through the reactor's installed resolver (GuardedResolver when configured)."""
    from twisted.internet import reactor

    deferred: Deferred[str] = reactor.resolve(host)  # type: ignore[arg-type]  # zope stub
    return await maybe_deferred_to_future(deferred)


class AddressGuardMiddleware:
    """Downloader middleware refusing odd schemes and non-public hosts on every hop.

    Redirects and retries are new requests that pass through process_request again, so each
    hop is checked after DNS resolution. GuardedResolver re-checks at connection time, which
    closes the window between this check and the download (DNS rebinding).
    """

    def __init__(
        self, policy: AddressPolicy, stats: StatsCollector, resolve: Resolve = reactor_resolve
    ) -> None:
        self.policy = policy
        self.stats = stats
        self.resolve = resolve

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        policy = AddressPolicy.from_settings(crawler.settings)
        if not policy.enabled:
            raise NotConfigured("NEWS_ALLOW_PRIVATE_ADDRESSES is set")
        assert crawler.stats is not None
        return cls(policy, crawler.stats)

    async def process_request(self, request: Request) -> Request | Response | None:
        reason = self.policy.refuse_url(request.url)
        host = urlsplit(request.url).hostname or ""
        if reason is None and parse_ip(host) is None and not self.policy.host_exempt(host):
            reason = await self._refuse_resolved(host)
        if reason is not None:
            self.stats.inc_value("news/address_refused")
            logger.warning("Refused %s: %s", request.url, reason)
            raise AddressRefused(reason)
        return None

    async def _refuse_resolved(self, host: str) -> str | None:
        try:
            address = await self.resolve(host)
        except BlockedAddressError as exc:
            return exc.reason
        except Exception as exc:  # a real DNS failure: let the download report it
            logger.debug("Address guard could not resolve %s: %r", host, exc)
            return None
        return self.policy.refuse_address(host, address)

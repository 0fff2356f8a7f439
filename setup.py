"""Build shim for ``scrapyd-deploy``, which runs ``python setup.py bdist_egg``.

All metadata, packages, package data and the ``scrapy`` entry point (how Scrapyd finds
``crawler.settings``) live in pyproject.toml; without this file scrapyd-deploy would write
its own ``setup.py`` into the checkout.
"""

from setuptools import setup

setup()

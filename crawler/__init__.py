"""Everything that talks HTTP: sites, spiders, Scrapy settings and the raw WARC archive."""

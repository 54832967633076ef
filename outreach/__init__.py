"""outreach: compliant multichannel debt-collection outreach."""

__version__ = "0.1.0"

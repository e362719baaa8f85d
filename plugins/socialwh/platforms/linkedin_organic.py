"""LinkedIn Pages (organic): the platform's declaration (socialwh.registry).

LinkedIn organization statistics (organic), loaded by socialwh.connectors.linkedin_organic
(docs/organic-contract.md). date_day is a UTC day (LinkedIn reports UTC): account_timezone
'UTC'. followers: networkSizes firstDegreeSize for the night, earlier days derived back from it
with the daily follower gains. post_id is the post URN (urn:li:share:.. / urn:li:ugcPost:..).
"""

from socialwh.platforms._organic import comment_table, organic_tables
from socialwh.registry import Platform

PLATFORM = Platform(
    key='linkedin_organic',
    kind="organic",
    label='LinkedIn Pages',
    mart_platform='linkedin',  # the marts name the network; the key tells paid and organic apart
    conn_id='linkedin_organic',
    oauth="linkedin",  # socialwh.connectors.oauth: how its credentials renew
    sandbox="socialwh_dev.sandbox.linkedin_organic",
    description="LinkedIn organization statistics (share and follower statistics, posts) as loaded by socialwh.connectors.linkedin_organic into raw.* (docs/organic-contract.md).",
    tables=(*organic_tables('linkedin_organic', 'LinkedIn organization statistics (share and follower statistics, posts)'),
            comment_table('linkedin_organic', 'LinkedIn socialActions comments')),
)

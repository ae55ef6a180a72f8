-- A tip's location pin may be where the tipster stands or lives (issue 11): new pins are kept
-- to about 100 m, 3 decimals of a degree (bot/domain/tips.py PIN_DECIMALS); so are older ones.
UPDATE tips SET latitude = round(latitude, 3), longitude = round(longitude, 3)
 WHERE latitude IS NOT NULL OR longitude IS NOT NULL;

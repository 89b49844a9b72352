"""`arena serve`: the browser front end over results databases, replays and envs.

`app.py` is the Starlette app (pages, JSON, server-sent progress), `data.py` reads the databases (read-only),
`replays.py` turns replays into pictures, `play.py` runs a person's game in the browser through the one match loop
and stores it, `pages.py` writes the HTML, `cli.py` registers the verb. The page scripts and styles in `static/`
are plain files served as they are: nothing is built.
"""

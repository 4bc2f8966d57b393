"""An event stream (webapp/push/) read through Flask's test client, event by event."""

from __future__ import annotations

from webapp.push import feeds

SSE = {"Accept": "text/event-stream"}


def presenter_pushes(app, event_id: str, region: str):
    """A reader of what the presenter's stream (PresenterFeed) would push now: each call
    reads the event again and gives (the regions' versions, `region` rendered)."""
    feed, view = feeds.PresenterFeed(app, event_id), feeds.View("presenter", "en")

    def pushed():
        with feed.context(view):
            state = feed.read()
            return feed.versions(state, view), feed.render(state, view, [region])[region]

    return pushed


class Stream:
    """An open event stream through the test client, read event by event."""

    def __init__(self, client, url: str, **headers):
        self.answer = client.get(url, headers={**SSE, **headers}, buffered=False)
        self.chunks = iter(self.answer.response)
        self.buffer = ""

    def events(self, until: str = "hello", reads: int = 30) -> list[tuple[str, str, str]]:
        """(name, id, data) of each event up to and including the first named `until`."""
        found = []
        for _ in range(reads):
            self.buffer += next(self.chunks).decode()
            while "\n\n" in self.buffer:
                block, self.buffer = self.buffer.split("\n\n", 1)
                fields = {"event": "message", "id": "", "data": []}
                for line in block.split("\n"):
                    name, _, value = line.partition(": ")
                    if name == "data":
                        fields["data"].append(value)
                    elif name in ("event", "id"):
                        fields[name] = value
                if fields["data"]:
                    found.append((fields["event"], fields["id"], "\n".join(fields["data"])))
                    if fields["event"] == until:
                        return found
        raise AssertionError(f"no {until!r} event in {reads} reads: {found}")

    def close(self):
        self.answer.close()

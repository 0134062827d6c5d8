"""Requests: what the customer asks for, separately from what the ticket is about.

A ticket is cut into pieces: sentences (the subject line is one), and a sentence joining two requests
with "and" into clauses. Misspelt words are read as the closest word of the playbook's examples
(a word the embedder's tokenizer knows is never changed). The salient pieces - phrased as a request or
a question, or signalled by a pattern - are compared with the example phrases of the playbook's request
types (``requests:`` in ``playbook.yaml``) and with a background of sentences that ask for nothing.

Probabilities: a softmax over the types' nearest-example similarities, with a temperature fitted
leave-one-out on the playbook's own examples, so the threshold (``request_settings.min_confidence``,
0.5: more likely than everything else together) means the same for every playbook and nothing is
tuned on a test set. A workspace with labelled requests can add a trained classifier (calibrated by
cross-validation); the two are averaged (a linear opinion pool). Without one, a pattern hit is evidence
with a likelihood ratio (``pattern_odds``, Bayes' rule), so it decides when the examples are unsure but
not against a sentence they clearly read as something else; a classifier has learned those words from
the labels, so its patterns carry no extra odds (chosen on a split of the training data: the double
count lost requests). A negative pattern masks what it matches, with or without a classifier:
"credit card" leaves no credit pattern behind and, with nothing else there, rules credit out in that
sentence. What is decided is the probability of a group: the types proposing one action
(``cancel_subscription`` and ``close_account`` both propose ``close_account``), all question types,
or a single type that proposes nothing.

Last, the speech act: a sentence that asks *about* an action ("what is your refund policy?",
"where is my refund?") goes to the best question type (``question: true``, e.g. ``policy_question``)
and proposes nothing, unless another sentence asks for that action. When no sentence asks for
anything, the ticket's own vector may still name a type that proposes nothing (a bug report).

Cost: the example vectors are embedded once per detector, batched and cached per text. A ticket costs
one batched embedding of its salient pieces (at most :data:`MAX_PIECES`; a one-sentence ticket reuses
its own vector), about as much as embedding the ticket once more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from tools.action_args import fill_args
from tools.playbook import Playbook, RequestSettings, RequestType

if TYPE_CHECKING:
    from tools.classifier import TextClassifier

Embed = Callable[[list[str]], np.ndarray]
Source = Literal["examples", "pattern", "classifier", "question"]
NONE = "_none"
#: Most salient pieces of one ticket that are embedded (in ticket order) and the longest piece: a bound on its cost.
MAX_PIECES = 8
MAX_PIECE_CHARS = 300

_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\s*\n+\s*|(?<=;)\s+")
_CLAUSE = re.compile(r",?\s+(?:and(?: also)?|but also|also|plus|as well as|und|et|y|e|en|og)\s+", re.I)
_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|tr)\s*:\s*)+", re.I)
def _any(*alternatives: str, start: bool = False) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of ``alternatives`` as whole words (at the start if ``start``)."""
    return re.compile(("^" if start else r"\b") + "(?:" + "|".join(alternatives) + r")\b", re.I)


#: How a question starts (English, German, French, Spanish, Dutch).
_Q_START = _any("what", "how", "is", "are", "do", "does", "can", "could", "would", "will", "when", "where", "which", "why",
                "who", "wie", "wo", "wann", "ist", "gibt", "kann", r"quel\w*", "comment", "est-ce", "¿", "qu[eé]", "cu[aá]l",
                "c[oó]mo", "d[oó]nde", "hoe", "wat", "waar", start=True)
#: Asking for something: politeness, wishes, "can you", "could it be refunded", "help me".
_REQUEST = _any(
    "please", "pls", "plz", "kindly", "i want", "i'd like", "i would like", "we want", "we'd like", "we would like", "i need",
    "we need", "(?:can|could|would|will) (?:you|u|ya|ye)",
    "(?:can|could|may) (?:i|we) (?:please )?(?:get|have|receive|cancel|close|delete|claim|obtain)",
    "(?:(?:is|would) it (?:be )?)?possible to (?:get|have|receive|obtain|demand|request|ask for|cancel|close|delete)",
    r"me (?:to |in |with )?(?:cancel|close|delete|remove|get|obtain|claim|request|receive|recover)\w*",
    "i demand", "we demand", "i request",
    "we request", "i am requesting", "we are requesting", "we hereby", "i hereby", "i wish to", "we wish to", "help me", "assist me",
    "i'?m trying to", "i am trying to", "i have to", "i've got to", "i have got to", "wanna", "gotta",
    r"(?:can|could|would) (?:the|this|that|it|our|my|these|those|one|both) (?:\w+ ){0,4}?be (?:returned|refunded|reversed|"
    r"cancell?ed|closed|removed|deleted|credited|transferred|sent back)",
    "bitte", "ich möchte", "wir möchten", "s'il vous pla[iî]t", "svp", "je voudrais", "nous voudrions", "je souhaite", "nous souhaitons",
    "por favor", "quiero", "queremos", "gostar[ií]a", "graag", "ik wil", "wij willen", "vennligst", "per favore")
#: A sentence that starts with an action verb (after "please", "just" …).
_IMPERATIVE = re.compile(r"^(?:\W*(?:please|pls|kindly|now|so|then|just)\W+)?(?:(?:i )?(?:need|want|wanna)(?: to)?\W+)?"
                         r"(?:refund|get|obtain|claim|request|receive|recover|cancel|close|delete|remove|erase|give|"
                         r"send|issue|make|add|stop|terminate|transfer|promote|reset|disable|lock|unlock|change|update|reverse|"
                         r"apply|credit|return|revoke|sign|end|process|confirm|fix|unsubscribe|deactivate)\b", re.I)
#: "How do I cancel?": asking how to do an action is asking for it.
_HOW_TO_DO = re.compile(r"\b(?:how|where|what) (?:do|can|could|should|would|must|to) (?:i |we )?(?:do to |go about |have to |"
                        r"need to )?(?:\w+ ){0,2}?(?:cancel|close|delete|get|request|obtain|claim|remove|terminate|erase|end|stop|"
                        r"transfer|unsubscribe|deactivate|apply for|ask for|receive|demand|move|make sure|ensure)\b", re.I)
#: Asking to see or learn something (only a question when what is asked about is a policy: see _POLICY).
_INFO = _any("know", "see", "seeing", "check", "checking", "find out", "learn", "understand", "read", "review", "view", "viewing",
             "look(?:ing)? (?:up|at|into)", "tell me", "let me know", "explain", "information", "info", "wondering", "curious",
             "question", "questions")
#: What a question about a policy talks about (terms, fees, windows, eligibility, conditions, what happens).
_POLICY = _any(r"polic(?:y|ies)", "window", "fees?", r"penalt(?:y|ies)", "terms", "conditions", r"eligib\w*", "allowed", "rules?",
               "guarantee", "how long", "how soon", "how many days", "how much (?:does|do|is|will)", "what happens",
               "do you (?:offer|give|provide|allow|charge)", "is there an?", "are there", "still",
               "(?:in|under) (?:which|what) (?:cases?|situations?|circumstances|conditions)", "circumstances", "if (?:i|we)",
               "in case", r"within \d+ days", "(?:in|under) (?:which|what)", "which (?:cases?|situations?|circumstances)",
               "(?:usually|normally|typically) take", "take to (?:arrive|process|come|be processed)")
#: Asking where something is. "I expect a refund of $50" reads as awaiting one (Bitext's track_refund; "a full refund" does not).
_STATUS = _any("where is", "where's", "status", "track(?:ing)?", "still waiting", "waiting (?:for|on)", "(?:am|are) expecting",
               "haven'?t (?:yet )?(?:received|got|seen)", "not (?:yet )?(?:received|arrived|arriving)", "never (?:arrived|came)",
               "(?:hasn'?t|has not|didn'?t|did not) arrive", "when will (?:i|we) (?:get|receive|see)", r"has (?:it|my|our|the) \w+ been",
               "was it processed", "did you (?:receive|get|process)", "any news", "anything new",
               r"(?:i|we) (?:expect|am expecting|are expecting) (?:a|an|my|our|the) (?!full\b)(?:\w+ ){0,2}?(?:refund|reimbursement|"
               r"compensation|rebate|restitution|credit|payment|money) (?:(?:of|for|fo|off)\b|[$€£]|\d)",
               "wo bleibt", "noch nicht erhalten")


#: Words the cues above are made of: a misspelling of one of them is corrected like a playbook word.
CUE_WORDS = ("waiting", "expect", "expecting", "which", "what", "where", "cases", "situations", "circumstances", "policy",
             "long", "refund", "refunds", "reimburse", "reimbursement", "compensation", "cancel", "canceling", "cancelling",
             "cancellation", "terminate", "termination", "account", "delete", "deleting", "remove", "removal", "close",
             "closing", "charges", "charge", "fees", "penalty", "please", "information", "possible", "received", "status")
#: Short function words a run-on may glue to a vocabulary word ("tocancel", "reimbursementof", "uhelp").
GLUE_WORDS = frozenset(("a", "an", "i", "u", "to", "my", "me", "of", "for", "on", "in", "the", "and", "or", "is", "it", "do", "be",
                        "at", "by", "we", "our", "you", "your", "can", "how", "what", "want", "need", "help"))
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class Speller:
    """Corrects misspelt words to a vocabulary (edit distance 1, or 2 for words of 9+ letters) and splits run-ons.

    Only words that are not in the vocabulary and have exactly one closest correction change; short
    words (under 5 letters) are never touched, so names and codes stay as written.
    """

    def __init__(self, vocabulary: set[str], is_word: Callable[[str], bool] | None = None) -> None:
        """Index every word of ``vocabulary`` by its one-letter deletions.

        Args:
            vocabulary: The words to correct to (the playbook's examples and descriptions, the cue words).
            is_word: Tells a real word from a misspelling (see :func:`wordpiece_dictionary`); a real word
                is never corrected. Without it only the vocabulary counts as real words.
        """
        self.words = {w.lower() for w in vocabulary if len(w) >= 3}
        self._is_word = is_word
        self._deletes: dict[str, set[str]] = {}
        for word in self.words:
            for variant in self._variants(word):
                self._deletes.setdefault(variant, set()).add(word)

    @staticmethod
    def _variants(word: str) -> set[str]:
        return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}

    def word(self, token: str) -> str:
        """The corrected form of one lower-case word (itself when known, short or ambiguous)."""
        if len(token) < 5 or token in self.words or (self._is_word is not None and self._is_word(token)):
            return token
        split = self._split(token, strict=True)
        if split:
            return split
        close = {c for v in self._variants(token) for c in self._deletes.get(v, ()) if _distance(token, c) <= 1}
        if not close and len(token) >= 9:
            close = {c for v in self._variants(token) for w in self._variants(v) for c in self._deletes.get(w, ())
                     if abs(len(c) - len(token)) <= 2 and _distance(token, c) <= 2}
        if len(close) == 1:
            return close.pop()
        return self._split(token, strict=False) or token

    def _split(self, token: str, strict: bool) -> str | None:
        """A run-on read as two words ("reimbursementpolicy", "tocancel", "refundof", "premiumaccount"), else None.

        ``strict``: both parts are vocabulary or short function words (:data:`GLUE_WORDS`), tried before a
        spelling correction. Otherwise (when no correction fits) one part is a vocabulary word of 6+ letters
        and the other a real word (or any word of 6+ letters) of 4+ letters.
        """
        def strong(part: str) -> bool:
            return (part in self.words and len(part) >= 3) or part in GLUE_WORDS

        def weak(part: str) -> bool:
            return len(part) >= 4 and (len(part) >= 6 or self._is_word is None or self._is_word(part))

        cuts = [(token[:cut], token[cut:]) for cut in range(1, len(token))]
        for left, right in cuts:
            if strong(left) and strong(right):
                return f"{left} {right}"
        for left, right in [] if strict else cuts:
            if (len(right) >= 6 and right in self.words and weak(left)) or (len(left) >= 6 and left in self.words and weak(right)):
                return f"{left} {right}"
        return None

    def text(self, text: str) -> str:
        """``text`` with every misspelt word corrected; everything else exactly as written."""

        def fix(match: re.Match[str]) -> str:
            low = match.group(0).lower()
            fixed = self.word(low)
            return match.group(0) if fixed == low else fixed

        return _WORD.sub(fix, text)


def wordpiece_dictionary(token_ids: Callable[[list[str]], list[list[int]]]) -> Callable[[str], bool]:
    """``is_word`` for :class:`Speller` from the embedder's tokenizer: a word it keeps whole is a real word.

    Args:
        token_ids: The embedder's ``token_ids`` (word-piece ids of each text, without special tokens).
    """
    @lru_cache(maxsize=65_536)
    def is_word(word: str) -> bool:
        return len(token_ids([word])[0]) == 1

    return is_word


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


class DetectedRequest(BaseModel):
    """One thing the customer asks for."""

    model_config = ConfigDict(frozen=True)
    type: str = Field(description="The playbook request type (refund, cancel_subscription, policy_question …).")
    confidence: float = Field(ge=0, le=1, description="Calibrated probability that the evidence carries this request.")
    evidence: str = Field(description="The sentence (or clause) that carries it.")
    action: str | None = Field(description="The action it proposes (None for a question or a report).")
    source: Source = Field(description="What decided it: examples, pattern, classifier, or question (asked about an action).")


class RequestAction(BaseModel):
    """An action a detected request proposes, with its filled arguments and what is still missing."""

    name: str
    args: dict[str, Any]
    missing: list[str] = Field(description="Required arguments that could not be filled: propose it as incomplete.")
    required: list[str] = Field(default_factory=list, description="Arguments the playbook requires on top of the action's "
                                "own (recheck an edit with ``missing_args(name, args, required)``).")
    requests: list[str] = Field(description="The request types that ask for it.")
    evidence: str
    confidence: float
    questions: list[str] = Field(default_factory=list, description="What to ask the customer for the missing arguments.")


class Classifier(Protocol):
    """A calibrated classifier over request types (``tools.classifier.TextClassifier``)."""

    @property
    def classes_(self) -> list[str]:
        """Labels in column order."""

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities."""


def pieces(text: str) -> list[str]:
    """Sentences of ``text`` (subject line included), a sentence joining two requests split into clauses."""
    out: list[str] = []
    for sentence in _SENTENCE.split(_PREFIX.sub("", text or "")):
        sentence = sentence.strip(" -–•*>\t")
        if len(sentence) < 2:
            continue
        parts = [p.strip() for p in _CLAUSE.split(sentence)]
        if len(parts) > 1 and all(len(p.split()) >= 3 for p in parts):
            out.extend(parts)
        else:
            out.append(sentence)
    return list(dict.fromkeys(p[:MAX_PIECE_CHARS] for p in out))


def speech_act(piece: str) -> Literal["request", "question", "status", "statement"]:
    """Whether a sentence asks for something, asks about a policy, asks where something is, or states.

    A sentence about a policy (terms, fees, windows, eligibility, "what happens if") is a question when it
    is phrased as one or as a wish to see or learn it ("I want to see your refund policy"); asking how
    to *do* something ("how do I cancel?") is a request for it.
    """
    text = " ".join(piece.split())
    question = text.endswith("?") or bool(_Q_START.match(text))
    direct = bool(_IMPERATIVE.match(text) or _HOW_TO_DO.search(text))
    if _STATUS.search(text):
        return "status"
    if _POLICY.search(text) and not direct and (question or _INFO.search(text) or not _REQUEST.search(text)):
        return "question"
    if direct or _REQUEST.search(text):
        return "request"
    return "question" if question else "statement"


_VECTORS: dict[tuple[str, str], np.ndarray] = {}


def embed_cached(embed: Embed, texts: list[str], model_id: str) -> np.ndarray:
    """Unit vectors of ``texts``, embedding only those not seen before with this model (one batch)."""
    todo = list(dict.fromkeys(t for t in texts if (model_id, t) not in _VECTORS))
    if todo:
        for text, vector in zip(todo, np.asarray(embed(todo), dtype=np.float32), strict=True):
            _VECTORS[(model_id, text)] = vector
    return np.stack([_VECTORS[(model_id, t)] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)


def fit_temperature(vectors: np.ndarray, owner: np.ndarray, n_classes: int) -> float:
    """Softmax temperature minimising the leave-one-out log-loss of the examples' nearest-example scores."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    scores = np.full((len(vectors), n_classes), -1.0)
    for c in range(n_classes):
        members = owner == c
        if members.any():
            scores[:, c] = sims[:, members].max(axis=1)
    scores[~np.isfinite(scores)] = -1.0
    counts = np.bincount(owner, minlength=n_classes)
    keep = counts[owner] >= 2  # an example alone in its type has no neighbour to be recognised by
    rows, truth = scores[keep], owner[keep]

    def loss(log_t: float) -> float:
        return float(-log_softmax(rows / np.exp(log_t), axis=1)[np.arange(len(truth)), truth].mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-6.0, 1.0), method="bounded").x))


class RequestDetector:
    """Finds the requests of a ticket from the playbook's request types (+ an optional trained classifier)."""

    def __init__(self, types: Mapping[str, RequestType], settings: RequestSettings, embed: Embed,
                 classifier: Classifier | None = None, model_id: str = "default",
                 is_word: Callable[[str], bool] | None = None) -> None:
        """Embed the examples (once, batched) and fit the similarity temperature on them.

        Args:
            types: Request types by name (``Playbook.requests``).
            settings: Thresholds (``Playbook.request_settings``).
            embed: Embeds a list of texts into unit vectors (the engine's ``embedder.embed_array``).
            classifier: Optional classifier trained on this workspace's labelled requests.
            model_id: Names the embedding model in the example cache.
            is_word: Tells real words from misspellings for the spelling correction (:func:`wordpiece_dictionary`).
        """
        self.types, self.settings, self._embed, self.classifier = dict(types), settings, embed, classifier
        self.names = [*self.types, NONE]
        texts, owner = [], []
        for c, name in enumerate(self.names):
            examples = self.types[name].examples if name != NONE else settings.background
            texts += list(examples)
            owner += [c] * len(examples)
        self._examples = embed_cached(embed, texts, model_id)
        self._owner = np.asarray(owner)
        self._members = [np.flatnonzero(self._owner == c) for c in range(len(self.names))]
        self.temperature = fit_temperature(self._examples, self._owner, len(self.names))
        vocabulary = {w for text in [*texts, *(t.description for t in self.types.values())] for w in _WORD.findall(text.lower())}
        self._speller = Speller(vocabulary | set(CUE_WORDS), is_word) if settings.correct_spelling else None
        self._positive = [[re.compile(p, re.I) for p in self.types[n].patterns] for n in self.types]
        self._negative = [[re.compile(p, re.I) for p in self.types[n].negative_patterns] for n in self.types]
        self._questions = [i for i, n in enumerate(self.types) if self.types[n].question]
        groups: dict[str, list[int]] = {}
        for i, n in enumerate(self.types):
            key = f"action:{self.types[n].action}" if self.types[n].action else "question" if self.types[n].question else n
            groups.setdefault(key, []).append(i)
        self._group_members = [np.asarray(g) for g in groups.values()]
        # A classifier trained on the workspace's labels has seen the words the patterns look for (its TF-IDF
        # features): multiplying their odds again would count that evidence twice. Negatives still rule out.
        self._odds = settings.pattern_odds if classifier is None else 1.0
        self._clf_columns: list[int] = []
        if classifier is not None:
            self._clf_columns = [self.names.index(c) if c in self.names else -1 for c in classifier.classes_]

    @classmethod
    def from_playbook(cls, playbook: Playbook, embed: Embed, classifier: Classifier | None = None,
                      model_id: str = "default", is_word: Callable[[str], bool] | None = None) -> RequestDetector:
        """The detector of a workspace's playbook."""
        return cls(playbook.requests, playbook.request_settings, embed, classifier, model_id, is_word)

    @classmethod
    def for_embedder(cls, playbook: Playbook, embedder: Any, classifier: Classifier | None = None) -> RequestDetector:
        """The detector of a playbook on the project's embedder (``tools.embeddings.MiniLMEmbeddings``)."""
        from tools.embeddings import MODEL_ID

        return cls.from_playbook(playbook, embedder.embed_array, classifier, MODEL_ID, wordpiece_dictionary(embedder.token_ids))

    # ------------------------------------------------------------------ scoring

    def probabilities(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Calibrated probabilities ``(len(texts), types + none)`` from the examples (and the classifier)."""
        sims = np.asarray(vectors, dtype=np.float32) @ self._examples.T
        scores = np.stack([sims[:, m].max(axis=1) if len(m) else np.full(len(texts), -1.0) for m in self._members], axis=1)
        proba: np.ndarray = np.exp(log_softmax(scores / self.temperature, axis=1))
        if self.classifier is not None and texts:
            trained = np.zeros_like(proba)
            for column, p in zip(self._clf_columns, self.classifier.predict_proba(texts, vectors).T, strict=True):
                if column >= 0:
                    trained[:, column] += p
            proba = (proba + trained) / 2
        return proba

    def _patterns(self, piece: str, row: np.ndarray) -> tuple[np.ndarray, set[int]]:
        """Bayes' rule on one piece: a surviving pattern multiplies its type's odds by ``pattern_odds`` (no labels).

        A negative pattern masks what it matches; where it matched and no positive pattern is left, the
        type is ruled out in this piece (its probability moves to "no request"). The row is renormalised.
        """
        row, hits = row.astype(np.float64).copy(), set()
        for t, (positive, negative) in enumerate(zip(self._positive, self._negative, strict=True)):
            masked = piece
            for pattern in negative:
                masked = pattern.sub(lambda m: " " * len(m.group(0)), masked)
            if any(p.search(masked) for p in positive):
                hits.add(t)
                row[t] *= self._odds
            elif masked != piece:
                # A negative matched and nothing positive is left: not this type here. Its mass goes to "no
                # request": ruling one reading out is no evidence for another.
                row[-1] += row[t]
                row[t] = 0.0
        total = row.sum()
        return (row / total if total > 0 else row), hits

    # ------------------------------------------------------------------ detection

    def detect(self, text: str, vector: np.ndarray | None = None) -> list[DetectedRequest]:
        """Every request of one ticket, most confident first.

        Args:
            text: Subject and body (``tools.engine.ticket_text``), or the whole thread.
            vector: The ticket's unit embedding, reused when the ticket is a single sentence.
        """
        return self.detect_many([text], None if vector is None else np.asarray(vector)[None, :])[0]

    def detect_many(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> list[list[DetectedRequest]]:
        """:meth:`detect` for many tickets with one batched embedding (evaluations).

        Only the salient pieces of a ticket are embedded: those phrased as a request or a question and
        those a pattern signals. The whole ticket (its own vector when given) stands for the rest: it can
        add the types that propose nothing (a bug report, a how-to question), never an action.
        """
        plans = [self._plan(text) for text in texts]
        given = [None if vectors is None else np.asarray(vectors[i], dtype=np.float32) for i in range(len(texts))]
        todo: list[str] = []
        for (found, whole, reuse), vector in zip(plans, given, strict=True):
            todo += [] if reuse and vector is not None else [fixed for _, fixed in found]
            todo += [whole] if whole and vector is None else []
        unique = list(dict.fromkeys(todo))
        table = dict(zip(unique, np.asarray(self._embed(unique), dtype=np.float32), strict=True)) if unique else {}
        out = []
        for (found, whole, reuse), vector in zip(plans, given, strict=True):
            if reuse and vector is not None:
                rows = [vector]
            else:
                rows = [table[fixed] for _, fixed in found] + ([vector if vector is not None else table[whole]] if whole else [])
            labels = [fixed for _, fixed in found] + ([whole] if whole else [])
            proba = self.probabilities(labels, np.stack(rows)) if rows else np.zeros((0, len(self.names)))
            out.append(self._decide(found, proba[: len(found)], proba[len(found)] if whole else None, whole))
        return out

    def _plan(self, text: str) -> tuple[list[tuple[str, str]], str, bool]:
        """The salient pieces to embed, the whole text and whether the ticket's vector stands for its only piece.

        Pieces are ``(as written, spelling corrected)``; the whole text is empty for a one-piece ticket.
        """
        fix = self._speller.text if self._speller is not None else (lambda x: x)
        found = [(piece, fix(piece)) for piece in pieces(text)]
        if len(found) <= 1:
            return found, "", bool(found) and found[0][0] == found[0][1]
        salient = [(p, f) for p, f in found
                   if speech_act(f) != "statement" or any(x.search(f) for ps in self._positive for x in ps)]
        return salient[:MAX_PIECES], " ".join(fix(text).split()), False

    def _groups(self, row: np.ndarray) -> list[tuple[int, float]]:
        """``(best type, group probability)`` of every group reaching ``min_confidence``.

        A group is the types proposing one action (``cancel_subscription`` and ``close_account`` both propose
        ``close_account``), all question types, or one type that proposes nothing: what is decided is the
        probability of the group, which its most likely type stands for.
        """
        out = []
        for members in self._group_members:
            mass = float(row[members].sum())
            if mass >= self.settings.min_confidence:
                out.append((int(members[np.argmax(row[members])]), mass))
        return out

    def _decide(self, found: list[tuple[str, str]], proba: np.ndarray, whole: np.ndarray | None,
                text: str) -> list[DetectedRequest]:
        best: dict[str, DetectedRequest] = {}
        asked: set[str] = set()  # actions requested (not just asked about) somewhere in the ticket
        flipped: list[tuple[str, DetectedRequest]] = []
        source: Source = "classifier" if self.classifier is not None else "examples"
        for (piece, fixed), raw in zip(found, proba, strict=True):
            row, hits = self._patterns(fixed, raw)
            act = speech_act(fixed)
            for t, mass in self._groups(row):
                name = self.names[t]
                kind = self.types[name]
                how: Source = "pattern" if t in hits and raw[t] < self.settings.min_confidence else source
                if kind.action and act in ("question", "status") and self._questions:
                    q = max(self._questions, key=lambda i: row[i])
                    flipped.append((kind.action, DetectedRequest(type=self.names[q], confidence=round(mass, 3),
                                                                 evidence=piece, action=None, source="question")))
                    continue
                if kind.action:
                    asked.add(kind.action)
                self._keep(best, DetectedRequest(type=name, confidence=round(mass, 3), evidence=piece, action=kind.action,
                                                 source=how))
        for about, question in flipped:
            if about not in asked:
                self._keep(best, question)
        if whole is not None and not best:  # no sentence asks for anything: the ticket as a whole, never an action
            evidence = found[0][0] if found else text[:MAX_PIECE_CHARS]
            for t, mass in self._groups(whole):
                name = self.names[t]
                if not self.types[name].action and name not in best:
                    self._keep(best, DetectedRequest(type=name, confidence=round(mass, 3), evidence=evidence, action=None,
                                                     source=source))
        return sorted(best.values(), key=lambda r: -r.confidence)

    @staticmethod
    def _keep(best: dict[str, DetectedRequest], found: DetectedRequest) -> None:
        if found.type not in best or found.confidence > best[found.type].confidence:
            best[found.type] = found


def request_actions(found: Sequence[DetectedRequest], playbook: Playbook, ticket: Mapping[str, Any],
                    customer: Mapping[str, Any] | None, thread_text: str) -> list[RequestAction]:
    """The actions the detected requests propose, one per action name, with filled args and what is missing.

    Several request types proposing one action (``cancel_subscription`` and ``close_account`` both
    propose ``close_account``) give one action: the most confident type's arguments, all types listed.
    """
    actions: dict[str, RequestAction] = {}
    for request in sorted(found, key=lambda r: -r.confidence):
        if request.action is None:
            continue
        if request.action in actions:
            actions[request.action].requests.append(request.type)
            continue
        rules = playbook.requests[request.type].args if request.type in playbook.requests else {}
        args, missing = fill_args(request.action, ticket, customer, thread_text, evidence=request.evidence, rules=rules,
                                  currency=playbook.request_settings.default_currency)
        questions = [rules[m].ask for m in missing if m in rules and rules[m].ask]
        required = [name for name, rule in rules.items() if rule.required]
        actions[request.action] = RequestAction(name=request.action, args=args, missing=missing, required=required,
                                                requests=[request.type],
                                                evidence=request.evidence, confidence=request.confidence,
                                                questions=[q for q in questions if q])
    return list(actions.values())


def train_classifier(texts: list[str], labels: list[str], vectors: np.ndarray, seed: int = 0) -> TextClassifier:
    """A calibrated ``TextClassifier`` over request types, from one request label per text.

    For example the tickets whose ``requests`` label has one type; pass it to :class:`RequestDetector`.
    """
    from tools.classifier import TextClassifier

    return TextClassifier(seed=seed).fit(texts, labels, vectors)

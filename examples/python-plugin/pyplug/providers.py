"""pyplug as a provider: LLMService, EmbeddingService and VectorSearchService, which the host
routes other plugins' calls to (docs/services.md). No model: deterministic stand-ins, because
what matters here is the wire.

- Chat answers from a few rules (a greeting, the time, counting words, else an echo) with
  token usage, and sends its cost in the `qntx-cost-usd` trailer; StreamChat sends the same
  answer word by word.
- Embed turns a text into a 16-dimension unit vector from its SHA-256: the same text gives the
  same vector, different texts differ.
- Vector search keeps named indexes in memory and answers the nearest by Euclidean distance.

The host names the calling plugin in the `x-qntx-caller` metadata; the caller's token never
reaches us.
"""
import datetime
import hashlib
import math
import re
import threading
import time

import grpc

import embedding_pb2
import embedding_pb2_grpc
import llm_pb2
import llm_pb2_grpc
import vectorsearch_pb2
import vectorsearch_pb2_grpc

from . import NAME, log

MODEL = "pyplug-rules-1"
EMBED_MODEL = "pyplug-hash-16"
DIMENSIONS = 16
# Pretend price, so the host's budget has something to count: dollars per token.
USD_PER_TOKEN = 0.000002
# Pause between streamed words, so a reader sees them come one by one.
STREAM_PAUSE_S = 0.03


def caller_of(context) -> str:
    return dict(context.invocation_metadata()).get("x-qntx-caller", "")


def words(text: str) -> list:
    return re.findall(r"\S+", text)


def last_user_message(request) -> str:
    for message in reversed(request.messages):
        if message.role == "user":
            return message.content
    return request.user_prompt


def answer(question: str, caller: str) -> str:
    """The rule-based reply to `question`."""
    q = question.strip()
    low = q.lower()
    if not q:
        return "Ask me something."
    if re.match(r"^(hello|hi|hey)\b", low):
        return f"Hello{', ' + caller if caller else ''}! I am {NAME}'s rule-based stand-in for a language model."
    if "time" in low:
        return f"It is {datetime.datetime.now(datetime.timezone.utc).strftime('%H:%M')} UTC."
    match = re.match(r"^count(?: the)? words:?\s*(.*)$", low)
    if match:
        return f"That is {len(words(match.group(1)))} words."
    return f"You said: {q} ({len(words(q))} words)."


def usage(request, reply: str) -> dict:
    prompt = sum(len(words(m.content)) for m in request.messages) or len(words(request.user_prompt))
    completion = len(words(reply))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def charge(context, tokens: int) -> None:
    context.set_trailing_metadata((("qntx-cost-usd", f"{tokens * USD_PER_TOKEN:.8f}"),))


class LLM(llm_pb2_grpc.LLMServiceServicer):
    def Chat(self, request, context):
        reply = answer(last_user_message(request), caller_of(context))
        counts = usage(request, reply)
        charge(context, counts["total_tokens"])
        log.info("chat", caller=caller_of(context), tokens=counts["total_tokens"])
        return llm_pb2.LLMChatResponse(content=reply, model=MODEL, **counts)

    def StreamChat(self, request, context):
        reply = answer(last_user_message(request), caller_of(context))
        parts = words(reply)
        for i, word in enumerate(parts):
            if not context.is_active():
                return  # the caller went away (or its deadline passed): stop generating
            last = i == len(parts) - 1
            chunk = llm_pb2.LLMChatChunk(token=word if last else word + " ", model=MODEL if i == 0 else "")
            if last:
                chunk.done = True
                chunk.model = MODEL
                counts = usage(request, reply)
                chunk.prompt_tokens, chunk.completion_tokens, chunk.total_tokens = counts["prompt_tokens"], counts["completion_tokens"], counts["total_tokens"]
                charge(context, counts["total_tokens"])
            yield chunk
            if not last:
                time.sleep(STREAM_PAUSE_S)


def embed(text: str) -> list:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    raw = [b - 127.5 for b in digest[:DIMENSIONS]]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


class Embeddings(embedding_pb2_grpc.EmbeddingServiceServicer):
    def Embed(self, request, context):
        if not request.text:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "text cannot be empty")
        return embedding_pb2.EmbedResponse(vector=embed(request.text), dimensions=DIMENSIONS, model=EMBED_MODEL, tokens=len(words(request.text)))

    def BatchEmbed(self, request, context):
        results = [embedding_pb2.EmbeddingVector(vector=embed(t), tokens=len(words(t))) for t in request.texts]
        return embedding_pb2.BatchEmbedResponse(results=results, dimensions=DIMENSIONS, model=EMBED_MODEL, total_tokens=sum(r.tokens for r in results))

    def ModelInfo(self, request, context):
        return embedding_pb2.ModelInfoResponse(name=EMBED_MODEL, dimensions=DIMENSIONS, max_sequence_length=8192)


class Vectors(vectorsearch_pb2_grpc.VectorSearchServiceServicer):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes = {}  # name -> (dimensions, {id: vector})

    def CreateIndex(self, request, context):
        if not request.name or request.dimensions <= 0:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "an index needs a name and dimensions > 0")
        with self._lock:
            self._indexes.setdefault(request.name, (request.dimensions, {}))
        return vectorsearch_pb2.CreateIndexResponse(name=request.name)

    def AddVectors(self, request, context):
        with self._lock:
            index = self._indexes.get(request.index)
            if index is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no vector index {request.index!r}: create it first")
            dimensions, vectors = index
            for entry in request.vectors:
                if len(entry.vector) != dimensions:
                    context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"vector {entry.id!r} has {len(entry.vector)} dimensions, the index {dimensions}")
                vectors[entry.id] = list(entry.vector)
        return vectorsearch_pb2.AddVectorsResponse(added=len(request.vectors))

    def Search(self, request, context):
        with self._lock:
            index = self._indexes.get(request.index)
            if index is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no vector index {request.index!r}")
            items = list(index[1].items())
        q = list(request.query_vector)
        hits = sorted((math.dist(v, q) if len(v) == len(q) else math.inf, i) for i, v in items)
        return vectorsearch_pb2.VectorSearchResponse(results=[
            vectorsearch_pb2.VectorSearchHit(id=i, distance=d) for d, i in hits[: request.top_k or 10] if d != math.inf
        ])


def add_providers(server) -> None:
    """Serves the three provider services on pyplug's own port, beside DomainPluginService."""
    llm_pb2_grpc.add_LLMServiceServicer_to_server(LLM(), server)
    embedding_pb2_grpc.add_EmbeddingServiceServicer_to_server(Embeddings(), server)
    vectorsearch_pb2_grpc.add_VectorSearchServiceServicer_to_server(Vectors(), server)

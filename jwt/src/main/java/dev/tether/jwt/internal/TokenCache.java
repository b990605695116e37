package dev.tether.jwt.internal;

import dev.tether.core.Initiator;
import dev.tether.core.Verdict;
import dev.tether.jwt.InvalidJwtException;
import dev.tether.jwt.TokenUnavailableException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caches one token, renews it at {@code exp - refreshSkew}, lets concurrent requests share one
 * fetch (single flight), retries failed fetches with jittered exponential backoff, and turns what
 * cannot be fixed into a {@link TokenUnavailableException}.
 *
 * <p>Time comes from the scheduler's clock, so virtual time drives expiry and backoff in tests.
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public final class TokenCache {

    private static final Logger log = LoggerFactory.getLogger(TokenCache.class);

    private final String name;
    private final TokenSource source;
    private final TokenCheck check;
    private final Duration refreshSkew;
    private final Duration fetchTimeout;
    private final int fetchRetries;
    private final Duration fetchBackoff;
    private final Duration fetchMaxBackoff;
    private final Scheduler scheduler;

    private @Nullable Cached current;
    private Sinks.@Nullable One<Cached> inflight;
    private @Nullable String refused;
    private long fetches;

    /**
     * @param name            for log lines
     * @param source          where tokens come from
     * @param check           validation of each fetched token
     * @param refreshSkew     how long before {@code exp} a token is renewed
     * @param fetchTimeout    bound on one fetch try
     * @param fetchRetries    retries after a failed fetch try
     * @param fetchBackoff    first retry delay
     * @param fetchMaxBackoff largest retry delay
     * @param scheduler       clock and timers
     */
    public TokenCache(String name, TokenSource source, TokenCheck check, Duration refreshSkew, Duration fetchTimeout,
                      int fetchRetries, Duration fetchBackoff, Duration fetchMaxBackoff, Scheduler scheduler) {
        this.name = name;
        this.source = source;
        this.check = check;
        this.refreshSkew = refreshSkew;
        this.fetchTimeout = fetchTimeout;
        this.fetchRetries = fetchRetries;
        this.fetchBackoff = fetchBackoff;
        this.fetchMaxBackoff = fetchMaxBackoff;
        this.scheduler = scheduler;
    }

    /**
     * @param refresh whether the current token was refused: a new one must be fetched
     * @return a token that can be presented now
     */
    public Mono<String> token(boolean refresh) {
        return Mono.defer(() -> {
            Sinks.One<Cached> sink;
            boolean start = false;
            synchronized (this) {
                Cached c = current;
                if (refresh && c != null) {
                    refused = c.value;
                    current = null;
                } else if (c != null && now().isBefore(c.renewAt)) {
                    return Mono.just(c.value);
                }
                sink = inflight;
                if (sink == null) {
                    sink = Sinks.one();
                    inflight = sink;
                    start = true;
                }
            }
            if (start) {
                startFetch(sink);
            }
            return sink.asMono().map(c -> c.value);
        });
    }

    /** @return how many fetches were started (each may have made several tries) */
    public synchronized long fetches() {
        return fetches;
    }

    /** @return a description of the source, holding no secret */
    public String sourceDescription() {
        return source.description();
    }

    private void startFetch(Sinks.One<Cached> sink) {
        long number;
        synchronized (this) {
            number = ++fetches;
        }
        log.debug("[{}] fetching token #{} from {}", name, number, source.description());
        AtomicInteger tries = new AtomicInteger();
        Mono.defer(() -> {
                    tries.incrementAndGet();
                    return source.fetch(now());
                })
                .timeout(fetchTimeout, Mono.error(() -> new TimeoutException(source.description() + " did not supply a token within "
                        + fetchTimeout.toMillis() + " ms (fetchTimeout)")), scheduler)
                .switchIfEmpty(Mono.error(() -> new TokenFetchException(source.description() + " completed without a token", -1, false)))
                .<Cached>handle((token, s) -> {
                    try {
                        s.next(accept(token));
                    } catch (InvalidJwtException | TokenFetchException e) {
                        s.error(e);
                    }
                })
                // An issuer's Retry-After within our own backoff bound is waited out before the retry;
                // a longer one ends the fetch and is passed to the connection as a minimum delay.
                .onErrorResume(e -> retryAfter(e).filter(d -> d.compareTo(fetchMaxBackoff) <= 0).isPresent(),
                        e -> Mono.delay(retryAfter(e).orElseThrow(), scheduler).then(Mono.error(e)))
                .retryWhen(Retry.backoff(fetchRetries, fetchBackoff)
                        .maxBackoff(fetchMaxBackoff)
                        .jitter(0.5)
                        .scheduler(scheduler)
                        .filter(e -> !(e instanceof TokenFetchException tfe && tfe.permanent())
                                && retryAfter(e).filter(d -> d.compareTo(fetchMaxBackoff) > 0).isEmpty())
                        .doBeforeRetry(rs -> log.info("[{}] token fetch from {} failed (try {} of {}), retrying: {}", name,
                                source.description(), rs.totalRetries() + 1, fetchRetries + 1, rs.failure().getMessage()))
                        .onRetryExhaustedThrow((spec, rs) -> unavailable(rs.failure(), tries.get())))
                .onErrorMap(e -> !(e instanceof TokenUnavailableException), e -> unavailable(e, tries.get()))
                .subscribe(c -> {
                    synchronized (this) {
                        current = c;
                        refused = null;
                        inflight = null;
                    }
                    log.debug("[{}] token #{} valid until {}, renewed from {}", name, number, c.expiresAt.orElse(null), c.renewAt);
                    sink.tryEmitValue(c);
                }, e -> {
                    synchronized (this) {
                        inflight = null;
                    }
                    log.warn("[{}] {}", name, e.getMessage());
                    sink.tryEmitError(e);
                });
    }

    private Cached accept(String token) throws InvalidJwtException, TokenFetchException {
        String before;
        synchronized (this) {
            before = refused;
        }
        if (token.equals(before)) {
            throw new TokenFetchException(source.description() + " supplied the token that was just refused; a refresh needs a new one",
                    -1, false);
        }
        Instant now = now();
        Optional<Instant> exp = check.check(token, now);
        // Renew at exp - skew; a token without exp, or shorter-lived than the skew, is used once.
        Instant renewAt = exp.map(e -> e.minus(refreshSkew)).orElse(now);
        return new Cached(token, exp, renewAt);
    }

    private static Optional<Duration> retryAfter(Throwable e) {
        return e instanceof TokenFetchException tfe ? tfe.retryAfter() : Optional.empty();
    }

    private TokenUnavailableException unavailable(Throwable cause, long tries) {
        boolean fatal = cause instanceof TokenFetchException tfe && tfe.permanent();
        int status = cause instanceof TokenFetchException tfe ? tfe.status() : -1;
        Initiator initiator = cause instanceof InvalidJwtException ? Initiator.LOCAL_DETECTION : Initiator.REMOTE_PEER;
        String desc = source.description();
        String detail = String.valueOf(cause.getMessage());
        if (cause instanceof InvalidJwtException) {
            detail = "handed out a token that must not be presented: " + detail;
        } else if (detail.startsWith(desc + " ")) {
            detail = detail.substring(desc.length() + 1);
        } else {
            detail = "failed: " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : detail);
        }
        String message = "no token for this attempt: " + desc + " " + detail + " (" + tries + (tries == 1 ? " try" : " tries") + ")";
        Verdict suggested = fatal ? Verdict.fatal(message) : retryAfter(cause).map(Verdict::retryAfter).orElse(null);
        // an internal type never reaches the application: its message and status are carried above, its own cause
        // (the I/O failure, if any) becomes the cause
        Throwable exposed = cause instanceof TokenFetchException ? cause.getCause() : cause;
        return new TokenUnavailableException(message, initiator, status, suggested, exposed);
    }

    private Instant now() {
        return Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS));
    }

    /** A token and when to renew it. Never printed. */
    private static final class Cached {
        final String value;
        final Optional<Instant> expiresAt;
        final Instant renewAt;

        Cached(String value, Optional<Instant> expiresAt, Instant renewAt) {
            this.value = value;
            this.expiresAt = expiresAt;
            this.renewAt = renewAt;
        }

        @Override
        public String toString() {
            return "Token{****, expiresAt=" + expiresAt.orElse(null) + "}";
        }
    }
}

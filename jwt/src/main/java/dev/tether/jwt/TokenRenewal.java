package dev.tether.jwt;

import dev.tether.core.Credentials;
import dev.tether.core.CredentialsProvider;
import dev.tether.core.CredentialsRequest;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Renews the token of a live connection before it expires, so a peer that ends sessions at token
 * expiry never has to. Use it as the connection's credentials provider: it hands out the
 * {@link JwtCredentialsProvider}'s tokens and remembers when the one handed out last expires; a
 * {@linkplain Builder#margin(Duration) margin} before that, it runs the renewal action bound with
 * {@link #start(Supplier, Supplier)}, and the fallback when the renewal fails.
 *
 * <p>For an MQTT 5 client with an authentication method, the renewal is a re-authentication (AUTH
 * 0x19 with a fresh token, the connection stays up, the client's lifecycle shows a
 * {@code reauthenticated} notice); the fallback, and the only action for MQTT 3.1.1, is a planned
 * reconnect with a fresh token that keeps the session:
 *
 * <pre>{@code
 * TokenRenewal renewal = TokenRenewal.builder(tokens).margin(Duration.ofSeconds(30)).build();
 * MqttClient client = MqttClient.builder().endpoint(broker).clientId("sensor-7")
 *         .authenticationMethod("token").credentials(renewal).build();
 * renewal.start(client::reauthenticate, client::reconnect);
 * client.start();
 * }</pre>
 *
 * <p>A token that is already due for renewal is never handed out: the request asks the provider
 * for a new one, so the connection after a planned reconnect presents a fresh token.
 *
 * <p>Each renewal is reported on {@link #renewals()}. The token handed out last is the one renewed,
 * so give each connection its own renewal (they may share the {@link JwtCredentialsProvider}).
 * Time and timers come from the provider's scheduler.
 */
public final class TokenRenewal implements CredentialsProvider, Disposable {

    /** Default margin before {@code exp} at which a renewal starts: 30 s. */
    public static final Duration DEFAULT_MARGIN = Duration.ofSeconds(30);

    private static final Logger log = LoggerFactory.getLogger(TokenRenewal.class);

    /** What a renewal led to. */
    public enum Outcome {
        /** The renewal action succeeded: the connection holds a fresh token. */
        RENEWED,
        /** The renewal action failed and the fallback (for example a planned reconnect) succeeded. */
        FELL_BACK,
        /** Neither worked (for example not connected); the next connection attempt gets a fresh token anyway. */
        FAILED
    }

    /**
     * One renewal.
     *
     * @param at       when it ended
     * @param expiring the expiry of the token it replaced
     * @param outcome  what it led to
     * @param cause    why the renewal action failed, or null
     */
    public record Renewal(Instant at, Instant expiring, Outcome outcome, @Nullable Throwable cause) {
    }

    private final JwtCredentialsProvider tokens;
    private final Duration margin;
    private final Scheduler scheduler;
    private final Sinks.Many<Renewal> renewals = Sinks.many().multicast().directBestEffort();

    private @Nullable Supplier<? extends Publisher<Void>> renew;
    private @Nullable Supplier<? extends Publisher<Void>> fallback;
    private @Nullable Disposable timer;
    private boolean disposed;

    private final Builder settings;

    private TokenRenewal(Builder b) {
        this.settings = new Builder(b);
        this.tokens = b.tokens;
        this.margin = b.margin;
        this.scheduler = b.scheduler != null ? b.scheduler : b.tokens.scheduler();
    }

    /**
     * @param tokens where the tokens come from
     * @return a builder
     */
    public static Builder builder(JwtCredentialsProvider tokens) {
        return new Builder(tokens);
    }

    /** @return a builder prefilled with this renewal's settings */
    public Builder toBuilder() {
        return new Builder(settings);
    }

    /**
     * Binds the actions and arms the renewal. Call once, typically right after building the
     * connection that uses this renewal as its credentials provider.
     *
     * @param renew    renews the live connection's token, for example {@code client::reauthenticate};
     *                 it must ask this renewal for credentials (as a re-authentication does)
     * @param fallback runs when {@code renew} fails, for example {@code client::reconnect}; or null
     * @return this renewal
     * @throws IllegalStateException if already started or disposed
     */
    public synchronized TokenRenewal start(Supplier<? extends Publisher<Void>> renew,
                                           @Nullable Supplier<? extends Publisher<Void>> fallback) {
        Objects.requireNonNull(renew, "renew");
        if (disposed || this.renew != null) {
            throw new IllegalStateException(disposed ? "the renewal is disposed" : "the renewal is already started");
        }
        this.renew = renew;
        this.fallback = fallback;
        return this;
    }

    /**
     * Hands out the provider's credentials and schedules the renewal of the token a margin before
     * its expiry (replacing any earlier schedule).
     *
     * @param request why credentials are needed
     * @return the credentials
     */
    @Override
    public Mono<Credentials> credentials(CredentialsRequest request) {
        return tokens.issue(request)
                // A token due for renewal is not handed out again (a planned reconnect must present a new one).
                .flatMap(issued -> !request.refresh() && dueForRenewal(issued)
                        ? tokens.issue(new CredentialsRequest(request.attempt(), request.endpoint(), true))
                        : Mono.just(issued))
                .map(issued -> {
                    issued.expiresAt().ifPresent(this::schedule);
                    return issued.credentials();
                });
    }

    private boolean dueForRenewal(JwtCredentialsProvider.Issued issued) {
        long now = scheduler.now(TimeUnit.MILLISECONDS);
        return issued.expiresAt().map(exp -> exp.minus(margin).toEpochMilli() <= now).orElse(false);
    }

    /** @return every renewal, as it ends (hot; no replay) */
    public Flux<Renewal> renewals() {
        return renewals.asFlux();
    }

    /** @return the margin before expiry at which a renewal starts */
    public Duration margin() {
        return margin;
    }

    @Override
    public synchronized void dispose() {
        disposed = true;
        if (timer != null) {
            timer.dispose();
            timer = null;
        }
    }

    @Override
    public synchronized boolean isDisposed() {
        return disposed;
    }

    @Override
    public String toString() {
        return "TokenRenewal{margin=" + margin + ", tokens=" + tokens + "}";
    }

    private void schedule(Instant expiresAt) {
        long now = scheduler.now(TimeUnit.MILLISECONDS);
        long delay = Math.max(0, expiresAt.minus(margin).toEpochMilli() - now);
        synchronized (this) {
            if (disposed) {
                return;
            }
            if (timer != null) {
                timer.dispose();
            }
            timer = scheduler.schedule(() -> fire(expiresAt), delay, TimeUnit.MILLISECONDS);
        }
        log.debug("renewal of the token expiring at {} in {} ms", expiresAt, delay);
    }

    private void fire(Instant expiring) {
        Supplier<? extends Publisher<Void>> r;
        Supplier<? extends Publisher<Void>> f;
        synchronized (this) {
            if (disposed) {
                return;
            }
            r = renew;
            f = fallback;
        }
        if (r == null) {
            report(expiring, Outcome.FAILED, new IllegalStateException("the renewal was not started: no action to renew with"));
            return;
        }
        Mono.defer(() -> Mono.from(r.get()))
                .then(Mono.fromRunnable(() -> report(expiring, Outcome.RENEWED, null)))
                .onErrorResume(e -> {
                    if (f == null) {
                        report(expiring, Outcome.FAILED, e);
                        return Mono.empty();
                    }
                    log.info("token renewal failed ({}); falling back", e.toString());
                    return Mono.defer(() -> Mono.from(f.get()))
                            .then(Mono.fromRunnable(() -> report(expiring, Outcome.FELL_BACK, e)))
                            .onErrorResume(e2 -> {
                                e2.addSuppressed(e);
                                report(expiring, Outcome.FAILED, e2);
                                return Mono.empty();
                            });
                })
                .subscribe(null, e -> log.warn("token renewal ended with {}", e.toString()));
    }

    private void report(Instant expiring, Outcome outcome, @Nullable Throwable cause) {
        Renewal r = new Renewal(Instant.ofEpochMilli(scheduler.now(TimeUnit.MILLISECONDS)), expiring, outcome, cause);
        if (outcome == Outcome.FAILED) {
            log.warn("token renewal before {} failed: {}", expiring, cause == null ? "?" : cause.toString());
        } else {
            log.debug("token renewal before {}: {}", expiring, outcome);
        }
        synchronized (renewals) {
            renewals.tryEmitNext(r);
        }
    }

    /** Builds a {@link TokenRenewal}. */
    public static final class Builder {
        private final JwtCredentialsProvider tokens;
        private Duration margin = DEFAULT_MARGIN;
        private @Nullable Scheduler scheduler;

        private Builder(Builder b) {
            this(b.tokens);
            margin = b.margin;
            scheduler = b.scheduler;
        }

        private Builder(JwtCredentialsProvider tokens) {
            this.tokens = Objects.requireNonNull(tokens, "tokens");
        }

        /**
         * @param margin how long before {@code exp} the renewal starts; long enough for a round trip
         *               to the token issuer and to the peer; default {@link #DEFAULT_MARGIN}
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder margin(Duration margin) {
            Objects.requireNonNull(margin, "margin");
            if (margin.isNegative() || margin.isZero()) {
                throw new IllegalArgumentException("margin must be positive, but was " + margin);
            }
            this.margin = margin;
            return this;
        }

        /**
         * @param scheduler clock and timers; default the provider's scheduler
         * @return this builder
         */
        public Builder scheduler(Scheduler scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /** @return the renewal, not started yet */
        public TokenRenewal build() {
            return new TokenRenewal(this);
        }
    }
}

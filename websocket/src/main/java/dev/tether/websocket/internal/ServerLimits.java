package dev.tether.websocket.internal;

import dev.tether.websocket.Authenticator;
import io.github.resilience4j.ratelimiter.RateLimiter;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * The server's admission settings.
 *
 * @param authenticator               decides each upgrade before the 101
 * @param credentialsExpiredCloseCode the close code for a session whose credentials expired
 * @param maxSessions                 open sessions (and upgrades in progress) beyond which upgrades get 503
 * @param maxSessionsPerAddress       the same, per remote address (429)
 * @param maxPendingHandshakes        TCP connections not yet upgraded beyond which new ones are closed at once
 * @param handshakeTimeout            the bound from TCP accept to the 101 (or the refusal)
 * @param maxOutboundBytes            bytes queued for one session beyond which it is closed with 1013
 * @param rateLimiter                 the upgrade rate limit, or null for none
 * @param retryAfter                  the {@code Retry-After} sent with 503 and 429 refusals
 *
 * <p><b>Internal:</b> public only so that Tether's own classes in another package can use it; not part of
 * the API, may change without notice.
 */
public record ServerLimits(Authenticator authenticator, int credentialsExpiredCloseCode, int maxSessions,
                           int maxSessionsPerAddress, int maxPendingHandshakes, Duration handshakeTimeout,
                           long maxOutboundBytes, @Nullable RateLimiter rateLimiter, Duration retryAfter) {
}

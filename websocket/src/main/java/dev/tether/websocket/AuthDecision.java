package dev.tether.websocket;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What an {@link Authenticator} decided about an upgrade: {@link Accepted} (the 101 follows) or
 * {@link Refused} (HTTP 401 or 403, no WebSocket).
 */
public sealed interface AuthDecision {

    /**
     * @param principal who the client is (for example a JWT subject), visible as {@link WebSocketSession#principal()}
     * @return an acceptance without attributes or expiry
     */
    static Accepted accept(String principal) {
        return new Accepted(Objects.requireNonNull(principal, "principal"), Map.of(), null);
    }

    /**
     * @param principal  who the client is, or null for an anonymous session
     * @param attributes anything the application wants on the session ({@link WebSocketSession#attributes()})
     * @param expiresAt  when the client's credentials expire: the server then closes the session with
     *                   {@link WebSocketServer.Builder#credentialsExpiredCloseCode(int)}; null for never
     * @return the acceptance
     */
    static Accepted accept(@Nullable String principal, Map<String, ?> attributes, @Nullable Instant expiresAt) {
        return new Accepted(principal, Map.copyOf(attributes), expiresAt);
    }

    /**
     * @param reason why, for the response body and logs; must not contain secrets
     * @return a refusal with HTTP 401 (the client should present other credentials)
     */
    static Refused unauthorized(String reason) {
        return new Refused(401, reason, null);
    }

    /**
     * @param reason why, for the response body and logs; must not contain secrets
     * @return a refusal with HTTP 403 (the client is known but not allowed)
     */
    static Refused forbidden(String reason) {
        return new Refused(403, reason, null);
    }

    /**
     * The upgrade goes ahead.
     *
     * @param principal  who the client is, or null
     * @param attributes application attributes for the session (never printed by {@link #toString()})
     * @param expiresAt  when the credentials expire, or null for never
     */
    record Accepted(@Nullable String principal, Map<String, Object> attributes, @Nullable Instant expiresAt)
            implements AuthDecision {

        /**
         * @param principal  who the client is, or null
         * @param attributes application attributes
         * @param expiresAt  when the credentials expire, or null
         */
        public Accepted {
            attributes = Map.copyOf(attributes);
        }

        /** @return when the credentials expire, if they do */
        public Optional<Instant> expiry() {
            return Optional.ofNullable(expiresAt);
        }

        @Override
        public String toString() {
            return "Accepted{principal=" + principal + ", attributes=" + attributes.keySet()
                    + (expiresAt == null ? "" : ", expiresAt=" + expiresAt) + "}";
        }
    }

    /**
     * The upgrade is refused with an HTTP status and no WebSocket.
     *
     * @param status    401 or 403
     * @param reason    why, sent as the plain-text response body; must not contain secrets
     * @param challenge the {@code WWW-Authenticate} header value for a 401, or null
     */
    record Refused(int status, String reason, @Nullable String challenge) implements AuthDecision {

        /**
         * @param status    401 or 403
         * @param reason    why (at most 200 characters are sent, line breaks removed)
         * @param challenge the {@code WWW-Authenticate} value, or null
         * @throws IllegalArgumentException if the status is neither 401 nor 403
         */
        public Refused {
            if (status != 401 && status != 403) {
                throw new IllegalArgumentException("status must be 401 or 403, but was " + status);
            }
            Objects.requireNonNull(reason, "reason");
            String oneLine = reason.replaceAll("[\\r\\n\\t]+", " ");
            reason = oneLine.length() > 200 ? oneLine.substring(0, 200) : oneLine;
        }

        /**
         * @param challenge a {@code WWW-Authenticate} header value, e.g. {@code Bearer realm="bots"}
         * @return a copy with that challenge
         */
        public Refused withChallenge(String challenge) {
            return new Refused(status, reason, Objects.requireNonNull(challenge, "challenge"));
        }
    }
}

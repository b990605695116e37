package dev.tether.mqtt.test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a test broker accepts: no secret at all (anonymous), secrets starting with {@code valid}, and
 * secrets added with {@link #accept(String)}; secrets starting with {@code expired} and the user name
 * {@code banned} are refused.
 */
public final class AuthPolicy {

    private final Set<String> validSecrets = ConcurrentHashMap.newKeySet();
    private volatile boolean anonymous = true;

    /**
     * @param secret a password or token the broker accepts from now on
     * @return this policy
     */
    public AuthPolicy accept(String secret) {
        validSecrets.add(secret);
        return this;
    }

    /** @param allowed whether a CONNECT without secret is accepted (default true) */
    public void anonymous(boolean allowed) {
        anonymous = allowed;
    }

    /**
     * @param username the user name, or null
     * @param secret   the password or token, or null
     * @return whether to accept
     */
    public boolean allows(String username, String secret) {
        if ("banned".equals(username)) {
            return false;
        }
        if (secret == null) {
            return anonymous;
        }
        return secret.startsWith("valid") || validSecrets.contains(secret);
    }
}

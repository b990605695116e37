package dev.tether.mqtt.test;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a test broker accepts: a set of valid secrets (passwords or tokens), changeable while it runs,
 * and user names that are banned.
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
        anonymous = false;
        return this;
    }

    /** Accepts anyone again. */
    public void acceptAnyone() {
        validSecrets.clear();
        anonymous = true;
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
        return anonymous || (secret != null && validSecrets.contains(secret));
    }
}

<?php
// A Pixel merchant integration written only from the vendor documents (002,
// 003): it signs with the documents' own calculateSignature, calls status,
// payment_c2b and payment_b2c, checks every answer's signature, and posts
// callbacks it signs itself to the merchant's callback endpoint (Mizani's
// serve), as Pixel would.
//
// Configuration, from the environment: PIXEL_BASE_URL, PIXEL_PUBLIC_ID,
// PIXEL_MERCHANT_ID, PIXEL_SECRET_KEY (the variables Mizani's client reads),
// CALLBACK_URL (where the payments' callbacks go), WEBHOOK_URL (serve's
// POST /webhooks/pixel), ORDER_ID (an order the sandbox already knows, with
// status 2). Prints one line per check; exits 1 at the first failure.

// The documents' calculateSignature, verbatim (002 and 003, "Signature").
// Its recursive call returns $StringForSignature, an undefined variable:
// under its `: string` return type PHP 8 throws a TypeError for any nested
// array, so it only serves flat payloads.
function calculateSignature(array $data, string $secretKey, string $currentParamPrefix = '', int $depth = 16, int $currentRecursionLevel = 0 ): string
{
if ($currentRecursionLevel >= $depth) {
throw new Exception('Recursion level exceeded');
}
$stringForSignature = '';
foreach ($data as $key => $value) {
if (is_array($value)) {
$stringForSignature .= calculateSignature(
$value,
$secretKey,
"$currentParamPrefix$key.",
$depth,
$currentRecursionLevel + 1
);
} else if ($key !== 'signature') {
$stringForSignature .= "$currentParamPrefix$key" . $value;
}
}
if ($currentRecursionLevel == 0) {
return strtolower(hash_hmac('sha512', $stringForSignature, $secretKey));
} else {
return $StringForSignature;
}
}

// The same function with its typo corrected ($stringForSignature): nested
// objects contribute "key.sub" . value, as the documents intend.
function calculateSignatureIntended(array $data, string $secretKey, string $currentParamPrefix = '', int $depth = 16, int $currentRecursionLevel = 0 ): string
{
if ($currentRecursionLevel >= $depth) {
throw new Exception('Recursion level exceeded');
}
$stringForSignature = '';
foreach ($data as $key => $value) {
if (is_array($value)) {
$stringForSignature .= calculateSignatureIntended(
$value,
$secretKey,
"$currentParamPrefix$key.",
$depth,
$currentRecursionLevel + 1
);
} else if ($key !== 'signature') {
$stringForSignature .= "$currentParamPrefix$key" . $value;
}
}
if ($currentRecursionLevel == 0) {
return strtolower(hash_hmac('sha512', $stringForSignature, $secretKey));
} else {
return $stringForSignature;
}
}

// The documents' function as a server without the return type runs it:
// the typo makes nested objects contribute nothing ("literal" form).
function calculateSignatureLiteral(array $data, string $secretKey, string $currentParamPrefix = '', int $depth = 16, int $currentRecursionLevel = 0 )
{
if ($currentRecursionLevel >= $depth) {
throw new Exception('Recursion level exceeded');
}
$stringForSignature = '';
foreach ($data as $key => $value) {
if (is_array($value)) {
$stringForSignature .= @calculateSignatureLiteral(
$value,
$secretKey,
"$currentParamPrefix$key.",
$depth,
$currentRecursionLevel + 1
);
} else if ($key !== 'signature') {
$stringForSignature .= "$currentParamPrefix$key" . $value;
}
}
if ($currentRecursionLevel == 0) {
return strtolower(hash_hmac('sha512', $stringForSignature, $secretKey));
} else {
return @$StringForSignature;
}
}

function env(string $name): string
{
    $v = getenv($name);
    if ($v === false || $v === '') {
        fail("$name is not set");
    }
    return $v;
}

function fail(string $msg)
{
    fwrite(STDERR, "FAIL $msg\n");
    exit(1);
}

function ok(string $msg)
{
    echo "OK $msg\n";
}

function post(string $url, string $body): array
{
    $ctx = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => "Content-Type: application/json\r\nAccept: application/json\r\n",
        'content' => $body,
        'ignore_errors' => true,
        'timeout' => 10,
    ]]);
    $answer = file_get_contents($url, false, $ctx);
    if ($answer === false) {
        fail("POST $url: no answer");
    }
    $status = 0;
    foreach ($http_response_header as $h) {
        if (preg_match('#^HTTP/\S+ (\d{3})#', $h, $m)) {
            $status = (int)$m[1];
        }
    }
    return [$status, $answer];
}

$base = rtrim(env('PIXEL_BASE_URL'), '/');
$publicId = env('PIXEL_PUBLIC_ID');
$merchantId = env('PIXEL_MERCHANT_ID');
$secretKey = env('PIXEL_SECRET_KEY');
$callbackUrl = env('CALLBACK_URL');
$webhookUrl = env('WEBHOOK_URL');
$knownOrder = env('ORDER_ID');

// call signs $postData (flat: the documents' function; nested: the
// corrected one), POSTs it to $method, and checks the answer is signed.
function call(string $method, array $postData, bool $nested = false): array
{
    global $base, $publicId, $secretKey;
    $postData['signature'] = $nested ? calculateSignatureIntended($postData, $secretKey) : calculateSignature($postData, $secretKey);
    [$status, $body] = post("$base/$publicId/$method", json_encode($postData));
    if ($status !== 200) {
        fail("$method: HTTP $status: $body");
    }
    $answer = json_decode($body, true);
    if (!is_array($answer)) {
        fail("$method: answer is not JSON: $body");
    }
    if (!isset($answer['signature'])) {
        fail("$method: answer is not signed: $body");
    }
    // Answers carry a nested result: verified with the corrected function.
    if (!hash_equals(calculateSignatureIntended($answer, $secretKey), $answer['signature'])) {
        fail("$method: answer signature does not match: $body");
    }
    return $answer;
}

// 1. status of an order the sandbox knows.
$a = call('status', ['merchant_id' => $merchantId, 'order_id' => $knownOrder]);
if ($a['result']['code'] !== 0 || $a['order_id'] !== $knownOrder || $a['status'] !== 2) {
    fail("status $knownOrder: " . json_encode($a));
}
ok("status $knownOrder: status 2, signed answer verified");

// 2. payment_c2b, flat, as document 003 sends it for M-Pesa Kenya.
$c2b = 'php_c2b_' . getmypid();
$a = call('payment_c2b', [
    'merchant_id' => $merchantId, 'customer_id' => '254700000001', 'order_id' => $c2b, 'amount' => '150.00',
    'currency' => 'KES', 'country' => 'KE', 'callback_url' => $callbackUrl, 'provider_id' => 2162,
]);
if ($a['result']['code'] !== 0 || $a['status'] !== 1 || $a['transaction_id'] === '') {
    fail("payment_c2b: " . json_encode($a));
}
ok("payment_c2b $c2b: in progress, transaction {$a['transaction_id']}");

// 3. payment_b2c with extra (nested): the corrected function signs it.
$b2c = 'php_b2c_' . getmypid();
$a = call('payment_b2c', [
    'merchant_id' => $merchantId, 'customer_id' => '2250700000001', 'order_id' => $b2c, 'amount' => '1000',
    'currency' => 'XOF', 'country' => 'CI', 'callback_url' => $callbackUrl, 'provider_id' => 2304,
    'extra' => ['customer_name' => 'Name Surname'],
], true);
if ($a['result']['code'] !== 0 || $a['status'] !== 1) {
    fail("payment_b2c: " . json_encode($a));
}
ok("payment_b2c $b2c: in progress");

// 4. the simulator channel (14): stays in progress.
$sim = 'php_sim14_' . getmypid();
$a = call('payment_c2b', [
    'merchant_id' => $merchantId, 'customer_id' => '0900000001', 'order_id' => $sim, 'amount' => '100.00',
    'currency' => 'CDF', 'country' => 'KE', 'callback_url' => $callbackUrl, 'provider_id' => 14,
]);
if ($a['status'] !== 1 || $a['provider_result']['code'] !== -8888) {
    fail("provider 14: " . json_encode($a));
}
ok("payment_c2b $sim via provider 14: in progress, provider_result -8888");

// 5. a rule of document 003 broken (Côte d'Ivoire: multiples of 5).
$a = call('payment_c2b', [
    'merchant_id' => $merchantId, 'customer_id' => '2250700000001', 'order_id' => 'php_rule_' . getmypid(),
    'amount' => '1002', 'currency' => 'XOF', 'country' => 'CI', 'provider_id' => 2304,
]);
if ($a['result']['code'] === 0 || strpos($a['result']['message'], 'multiples of 5') === false) {
    fail("a payment of 1002 XOF in CI was not refused: " . json_encode($a));
}
ok("payment_c2b 1002 XOF in CI refused: " . $a['result']['message']);

// 6. a wrong signature: 10201.
$bad = ['merchant_id' => $merchantId, 'order_id' => $knownOrder];
$bad['signature'] = calculateSignature($bad, 'not-the-secret-key');
[$status, $body] = post("$base/$publicId/status", json_encode($bad));
$a = json_decode($body, true);
if ($a['result']['code'] !== 10201) {
    fail("wrong signature answered " . $body);
}
ok("status with a wrong signature: 10201 " . $a['result']['message']);

// 7. callbacks signed as Pixel signs them, posted to serve: the intended
// form and the literal one accepted, a tampered one refused.
function callbackFor(string $order, string $tx): array
{
    global $merchantId;
    return [
        'merchant_id' => $merchantId, 'operation_type' => 17, 'customer_id' => '0900000001', 'amount' => 100,
        'order_id' => $order, 'transaction_id' => $tx, 'transaction_ref' => 'QR555RQ', 'status' => 2,
        'provider_id' => 2162, 'destination_id' => '', 'result' => ['code' => 0, 'message' => 'OK'],
        'service_id' => 1, 'service_version' => '1.01/1.27', 'service_date_time' => '2026-03-02 10:08:32.832969',
    ];
}
$cb = callbackFor('php_cb_intended', 'PHP-T1');
$cb['signature'] = calculateSignatureIntended($cb, $secretKey);
[$status, $body] = post($webhookUrl, json_encode($cb));
if ($status !== 200) {
    fail("intended-form callback: HTTP $status $body");
}
ok("callback signed in the intended form: HTTP 200");

$cb = callbackFor('php_cb_literal', 'PHP-T2');
$cb['signature'] = calculateSignatureLiteral($cb, $secretKey);
[$status, $body] = post($webhookUrl, json_encode($cb));
if ($status !== 200) {
    fail("literal-form callback: HTTP $status $body");
}
ok("callback signed in the literal form: HTTP 200");

// A flat callback (document 003's, without provider_result): the
// documents' own function, verbatim.
$flat = ['merchant_id' => $merchantId, 'operation_type' => 16, 'customer_id' => '0900000001', 'amount' => '500.00',
    'order_id' => 'php_cb_flat', 'transaction_id' => 'PHP-T3', 'transaction_ref' => 'QR555RR', 'status' => 2,
    'provider_id' => 2162, 'destination_id' => '', 'service_date_time' => '2026-03-02 11:00:00.000000'];
$flat['signature'] = calculateSignature($flat, $secretKey);
[$status, $body] = post($webhookUrl, json_encode($flat));
if ($status !== 200) {
    fail("flat callback signed with the documents' function: HTTP $status $body");
}
ok("flat callback signed with the documents' own function: HTTP 200");

$cb = callbackFor('php_cb_tampered', 'PHP-T4');
$cb['signature'] = calculateSignatureIntended($cb, $secretKey);
$cb['amount'] = 1000;
[$status, $body] = post($webhookUrl, json_encode($cb));
if ($status !== 401) {
    fail("tampered callback: HTTP $status, want 401");
}
ok("tampered callback: HTTP 401");
echo "DONE\n";

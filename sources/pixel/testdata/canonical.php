<?php
// Reads JSON objects, one a line, and prints for each the signatures the
// documents' calculateSignature gives them under the key in argv[1]: with
// its typo corrected (intended form) and as written without its return type
// (literal form), space-separated. Used to check Mizani's canonicalizer
// against PHP itself.

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

$key = $argv[1];
while (($line = fgets(STDIN)) !== false) {
    $data = json_decode($line, true);
    if (!is_array($data)) {
        echo "invalid\n";
        continue;
    }
    echo calculateSignatureIntended($data, $key), ' ', calculateSignatureLiteral($data, $key), "\n";
}

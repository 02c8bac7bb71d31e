<?php
// Throughline, first-party mode, for a site where nothing else can be set up
// (shared hosting: no proxy rules, no rewrites). Put this file at the site's
// root; the page then loads
//     <script async src="/tl.php/t.js" data-site="…"></script>
// and the tracker sends its hits and id requests beside it (/tl.php/hit,
// /tl.php/vid), which this file forwards to the collector's /fp/. So the
// tracker, its hits and the visitor id are the site's own, and the cookies the
// collector sets are first-party cookies. Needs PHP's curl extension (php-curl);
// the part after tl.php is PATH_INFO, which PHP's usual setups pass on.
//
// Replace COLLECTOR with the collector's address as this server reaches it,
// e.g. http://127.0.0.1:8080 (no slash at the end), and add this server's
// address, as the collector sees it, to the collector's TRUSTED_PROXIES.

const UPSTREAM = 'COLLECTOR';
// The collector's first-party files, and nothing else.
const ALLOWED = ['t.js', 'h.js', 'c.js', 'vid', 'hit', 'lead', 'p.gif'];
const MAX_BODY = 16384; // a hit is at most 16 KB

$name = substr($_SERVER['PATH_INFO'] ?? '', 1);
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
if (!in_array($name, ALLOWED, true)) {
    http_response_code(404);
    exit;
}
if (!in_array($method, ['GET', 'HEAD', 'POST', 'OPTIONS'], true)) {
    http_response_code(405);
    exit;
}
$body = '';
if ($method === 'POST') {
    $body = (string) file_get_contents('php://input', false, null, 0, MAX_BODY + 1);
    if (strlen($body) > MAX_BODY) {
        http_response_code(413);
        exit;
    }
}

// The browser's headers the collector reads, then who asked and where.
$headers = ['Expect:', 'Content-Type: ' . ($_SERVER['CONTENT_TYPE'] ?? '')];
foreach (['Cookie', 'User-Agent', 'Origin', 'Referer', 'Accept-Language', 'Sec-CH-UA'] as $header) {
    $key = 'HTTP_' . strtoupper(str_replace('-', '_', $header));
    if (isset($_SERVER[$key])) {
        $headers[] = "$header: {$_SERVER[$key]}";
    }
}
$peer = $_SERVER['REMOTE_ADDR'] ?? '';
$headers[] = 'X-Forwarded-For: ' . (isset($_SERVER['HTTP_X_FORWARDED_FOR']) ? "{$_SERVER['HTTP_X_FORWARDED_FOR']}, $peer" : $peer);
$headers[] = 'X-Forwarded-Host: ' . ($_SERVER['HTTP_HOST'] ?? '');
$https = !empty($_SERVER['HTTPS']) && $_SERVER['HTTPS'] !== 'off';
$headers[] = 'X-Forwarded-Proto: ' . ($https ? 'https' : 'http');

// The answer's headers that go back: every Set-Cookie, Content-Type, Cache-Control.
$back = [];
$query = $_SERVER['QUERY_STRING'] ?? '';
$ch = curl_init(UPSTREAM . '/fp/' . $name . ($query === '' ? '' : "?$query"));
curl_setopt_array($ch, [
    CURLOPT_CUSTOMREQUEST => $method,
    CURLOPT_NOBODY => $method === 'HEAD',
    CURLOPT_HTTPHEADER => $headers,
    CURLOPT_RETURNTRANSFER => true,
    CURLOPT_CONNECTTIMEOUT => 5,
    CURLOPT_TIMEOUT => 15,
    CURLOPT_HEADERFUNCTION => function ($ch, $line) use (&$back) {
        if (preg_match('/^(Set-Cookie|Content-Type|Cache-Control|Retry-After):/i', $line)) {
            $back[] = trim($line);
        }
        return strlen($line);
    },
]);
if ($method === 'POST') {
    curl_setopt($ch, CURLOPT_POSTFIELDS, $body);
}
$answer = curl_exec($ch);
$status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
if ($answer === false || $status === 0) {
    http_response_code(502);
    exit;
}

// Only the collector's headers: no PHP's own type or X-Powered-By.
ini_set('default_mimetype', '');
header_remove('X-Powered-By');
http_response_code($status);
foreach ($back as $line) {
    header($line, false);
}
echo $answer;

package pixel

import "github.com/mizani/reconcile"

// Channel is a payment channel (provider_id): an operator or bank rail in
// one country, taking that country's currency.
type Channel struct {
	Country  string
	Currency reconcile.Currency
}

// channelIDs lists the provider_ids of documents 003 and 002 by country
// (ISO 3166-1 alpha-2) and currency. Provider 14, the vendor's simulator,
// serves any country and is not listed; nor are channels in currencies
// Mizani does not know (Sierra Leone's 2361).
var channelIDs = []struct {
	ch  Channel
	ids []int
}{
	{Channel{"BJ", "XOF"}, []int{9210}},
	{Channel{"BF", "XOF"}, []int{9209}},
	{Channel{"CM", "XAF"}, []int{802, 9062, 702, 803, 9063, 703, 9131}},
	{Channel{"CD", "CDF"}, []int{2196, 2197, 2198, 2199, 2173, 2174, 2175, 2176}},
	{Channel{"GM", "GMD"}, []int{9227}},
	{Channel{"CI", "XOF"}, []int{2303, 2333, 699, 805, 9196, 2430, 2304, 2334, 806, 9197, 2305, 2335, 804, 9198,
		2306, 2336, 9199, 2431, 536, 537, 538, 539}},
	{Channel{"MW", "MWK"}, []int{2087, 2088}},
	{Channel{"NG", "NGN"}, []int{2311, 706, 9122, 9143, 9231, 2312, 9230, 707, 9123, 2166, 2167, 2168, 2169, 2170, 2171, 2172}},
	{Channel{"EG", "EGP"}, []int{2313, 2314, 2315}},
	{Channel{"SN", "XOF"}, []int{2354, 2398, 9203, 2355, 2401, 9205, 2356, 2399, 2400, 540, 541, 542}},
	{Channel{"ZA", "ZAR"}, []int{2353}},
	{Channel{"RW", "RWF"}, []int{2351, 2352}},
	{Channel{"TZ", "TZS"}, []int{2109, 2111, 2308, 2323, 2339, 2403, 2110, 2112, 2307, 2322, 2340, 2108, 2113, 2309,
		2338, 2404, 2107, 2114, 2310, 2337, 2402, 2405}},
	{Channel{"TG", "XOF"}, []int{2357, 2358, 2359, 2360}},
	{Channel{"UG", "UGX"}, []int{2105, 808, 2106, 809}},
	{Channel{"ZM", "ZMW"}, []int{2118, 2332, 2370, 2119, 2371, 2372}},
	{Channel{"KE", "KES"}, []int{701, 2391, 700, 9125, 2390, 2392, 2393, 798, 2162}},
	{Channel{"GH", "GHS"}, []int{705, 981, 704, 980, 9127, 982, 2163, 2164, 2165}},
}

var channels = func() map[int]Channel {
	m := map[int]Channel{}
	for _, c := range channelIDs {
		for _, id := range c.ids {
			m[id] = c.ch
		}
	}
	return m
}()

// ChannelOf returns the country and currency of a provider_id the
// documents list.
func ChannelOf(providerID int) (Channel, bool) {
	c, ok := channels[providerID]
	return c, ok
}

package settlement

import "github.com/mizani/reconcile"

// human is minor units of c as "1,500.00 KES".
func human(minor int64, c reconcile.Currency) string {
	return reconcile.Money{Minor: minor, Currency: c}.Human()
}

// number is minor units of c as "1,500.00", without the currency code.
func number(minor int64, c reconcile.Currency) string {
	return reconcile.Money{Minor: minor, Currency: c}.Grouped()
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
